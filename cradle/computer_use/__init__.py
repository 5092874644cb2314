"""Models that act on the screen in their own vocabulary: computer-use APIs, open GUI models.

``actions`` is the shared vocabulary (a native action, coordinate conventions, the skill calls
it becomes); ``base`` the planner protocol. Every native action becomes ordinary cradle skill
calls, so it passes the same gates (parser, policy, confirmation, dry run, secrets) and is
recorded and replayed like any plan.
"""
