"""views_controls.bind: a control and the state kept in step, without pulling a slider back.

A key press on the η slider sends 0.2 + 0.001 = 0.20099999999999998; the state keeps 0.201
(``limits.snap``). Sending that 0.201 back would reach the browser after the next presses and
pull the slider back to it (a burst of five presses ended at η = 0.202 in a browser test).
"""
import math

import panel as pn

from app.state import ExplorerState
from app.views_controls import bind


def test_a_key_press_value_is_kept_without_float_noise_and_not_sent_back():
    state = ExplorerState()
    slider = bind(pn.widgets.EditableFloatSlider(start=0.01, end=0.5, step=0.001), state, "eta")
    sent = []
    slider.param.watch(lambda e: sent.append(e.new), "value")
    noisy = math.nextafter(0.201, 1.0)   # 0.201 and one unit in the last place: float noise
    assert noisy != 0.201
    slider.value = noisy   # the browser's value
    assert state.eta == 0.201   # kept without the noise
    assert slider.value == noisy and sent == [noisy]   # nothing pushed back to the slider


def test_a_state_change_still_moves_the_control_and_a_refused_value_is_put_back():
    state = ExplorerState()
    box = bind(pn.widgets.FloatInput(), state, "eta")
    state.eta = 0.25   # a preset, a reset, a link
    assert box.value == 0.25
    box.value = -1.0   # refused: the box shows the kept value again
    assert state.eta == 0.25 and box.value == 0.25 and "η" in state.input_error
