"""The run format: recording what a run did, step by step, so nothing is lost on a crash, and
loading, reporting and rendering it. What drives runs (resume, replay) is :mod:`cradle.playback`.
"""
