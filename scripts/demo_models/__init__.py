"""Training code for the demo models: the builders behind ``inferchain/bundle/demos/bundles/``.

Build tooling, not product: it needs torch, scikit-learn (digits), transformers (Llama)
and the worker's model classes, so it lives beside the scripts that run it
(``scripts/build_demo_models.py``, ``scripts/build_zk_demo.py``) and outside the wheel.
The shared package keeps only the committed bundles, their data and ``demo_bundle_path``.
Imported as ``scripts.demo_models`` with the repository root on ``sys.path`` (pytest puts
it there; the scripts insert it).
"""
