"""The action gate: everything an action from the model passes before it touches the screen.

One action's path (:meth:`cradle.gate.runner.ActionRunner.run`): parsed, never evaluated
(:func:`cradle.skills.parse_action`); admitted by the policy and then the secrets
(:mod:`cradle.gate.admission`); run with its context under a time limit
(:mod:`cradle.gate.executor`); recorded as one outcome, redacted (:mod:`cradle.gate.recording`).

* :mod:`cradle.gate.runner` - :class:`ActionRunner`: the skill registry of a run, one outcome
  per action string, and the curation of model-written skills.
* :mod:`cradle.gate.policy` - which skills exist for a run and which need a person's yes.
* :mod:`cradle.gate.secrets` - ``{secret:NAME}`` placeholders filled in at the last moment and
  redacted from everything recorded.
* :mod:`cradle.gate.executor` - one validated call with its context, under a time limit; sorts
  what a skill raises into feedback for the model or a bug of the skill's own.
"""
