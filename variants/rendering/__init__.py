"""Rendering variants with ffmpeg: pure command building, looks, the renderer itself.

- errors.py     - what can go wrong, split into permanent and transient
- ffmpeg.py     - locate and run the binary
- looks.py      - .cube parsing and grading objects turned into .cube files
- commands.py   - RenderSpec and the pure ffmpeg argv builders
- renderer.py   - render one spec to an MP4 and a JPEG poster, atomically
- demo_media.py - synthetic masters for the demo, tests and the benchmark
"""
