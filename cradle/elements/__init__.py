"""Elements on screen from pluggable providers: the accessibility tree, OCR, edge contours.

``base`` holds the shared vocabulary (the view a provider looks at, the provider and actor
protocols, the platform-neutral accessible node and its walk limits); ``accessibility`` turns
any platform's tree reader into a provider; ``atspi`` (Linux), ``uia`` (Windows) and ``ax``
(macOS) read the trees; ``merge`` combines every provider's elements into the one list that
marks, prompts, grounding skills and reports use. The environment picks the providers.
"""
