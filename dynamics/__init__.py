"""EoS Explorer engine: gradient descent and friends on toy objectives, in float64 JAX."""
