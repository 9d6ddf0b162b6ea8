"""The server's background warm-up starts once and leaves every program compiled."""
import jax

import dynamics
from app import warmup


def test_warm_up_runs_once_and_compiles_everything():
    first = warmup.start_once()
    assert warmup.start_once() is first      # a second session does not start another
    first.join(timeout=300)
    assert not first.is_alive()
    compiles = []
    listener = lambda event, duration, **kw: compiles.append(event) if event.endswith(
        "backend_compile_duration") else None
    jax.monitoring.register_event_duration_secs_listener(listener)
    for model in dynamics.MODELS.values():
        for name in dynamics.optimizers_for(model):
            dynamics.simulate(model, model.default_init, model.default_eta, 3000, optimizer=name)
    assert compiles == []
