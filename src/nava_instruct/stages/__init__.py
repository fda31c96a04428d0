"""The pipeline stages, one module each, in ``dvc.yaml`` order.

Each module holds ``Params`` (its section of ``params.yaml``, typed) and ``run(params)``; the CLI
loads a stage only when its command runs. Stages never import each other: what two stages share
lives in ``nava_instruct.layout`` (artifact names) or in ``nava_instruct.lm`` (model plumbing).
"""
