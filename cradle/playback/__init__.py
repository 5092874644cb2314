"""What drives recorded runs: resume, replay, human demonstrations, and a run turned into a skill.

These need the engine (screens, skills, episodes); the run format they read and write lives in
:mod:`cradle.trajectory`, which never imports this package.
"""
