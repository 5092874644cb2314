"""Run folders: recording what a run did, step by step, so nothing is lost on a crash."""
