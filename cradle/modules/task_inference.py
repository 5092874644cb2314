"""Task inference: which subtask comes now, and whether the task is already done.

It reasons over the text the earlier modules produced, so it does not need the image: one
fewer image in the step's requests.
"""

from cradle.modules.base import Module
from cradle.types import TaskInference


class TaskInferenceModule(Module):
    name = "task_inference"
    template = "task_inference.j2"
    output_model = TaskInference
    sends_image = False
    max_output_tokens = 512
