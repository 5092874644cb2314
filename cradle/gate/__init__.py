"""The action gate: everything an action from the model passes before it touches the screen.

* :mod:`cradle.gate.runner` - :class:`ActionRunner`: parses a step's action strings, applies
  the gate and runs each skill, one outcome per action; also curates model-written skills.
* :mod:`cradle.gate.policy` - which skills exist for a run and which need a person's yes.
* :mod:`cradle.gate.secrets` - ``{secret:NAME}`` placeholders filled in at the last moment and
  redacted from everything recorded.
* :mod:`cradle.gate.executor` - runs one validated call with its context, under a time limit.
"""
