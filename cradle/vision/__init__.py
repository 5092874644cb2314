"""What the framework sees on a frame without a model, on the CPU: boxes, marks, text, icons.

Each stage is a small module with plain functions, so a benchmark or a test can time or call
one stage alone. ``perceiver.VisionPerceiver`` chains them behind the ``Perceiver`` protocol.
Nothing here touches a display; OpenCV and numpy are imported by the modules that need them.
"""
