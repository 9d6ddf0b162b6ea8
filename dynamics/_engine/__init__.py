"""The engine's speed machinery, private: fused multi-core step loops and kernels.

``runner`` steps and measures one run block by block (behind ``simulate``); ``blocks`` and
``cells`` step many cells at once (behind the sweeps); ``metrics`` measures host arrays;
``jacobi`` is the small-matrix eigenvalue kernel; ``packing`` flattens an optimizer's state
into the float arrays the loops carry; ``twins`` says which models GD may step as a cheaper
twin. All of them run the one step of ``dynamics/step.py``.
"""
