"""The intro and the about card: built from the registries only, formulas cut into lines."""
import dataclasses

import pytest

import dynamics
from app import about
from app.about import FALLBACK, about_parts, formula_lines, intro_text, split_lines


def test_picky_formula_is_cut_at_its_top_level_commas():
    lines = split_lines(dynamics.MODELS["picky"].formula)
    assert lines == [r"L(x) = \tfrac12 (f_1 + f_2),", r"f_1 = \min\{x^2, 0.1(x-1)^2\},",
                     r"f_2 = \min\{x^2, 1.9(x-1)^2\}"]
    assert "".join(lines).replace(",", "") == \
        dynamics.MODELS["picky"].formula.replace(r",\ ", "").replace(",", "")


def test_commas_inside_groups_do_not_cut():
    assert split_lines(r"f(a,\ b) = \frac{a,\ b}{2}") == [r"f(a,", r"b) = \frac{a,\ b}{2}"]
    assert split_lines(r"\sqrt{x,\ y}") == [r"\sqrt{x,\ y}"]
    assert formula_lines("x^2") == ["$x^2$"]


@pytest.mark.parametrize("model", list(dynamics.MODELS))
@pytest.mark.parametrize("optimizer", list(dynamics.OPTIMIZERS))
def test_every_pair_names_its_rule_and_shows_the_note(model, optimizer):
    m, opt = dynamics.MODELS[model], dynamics.OPTIMIZERS[optimizer]
    assert f"**{opt.title}** on *{m.title}*" in intro_text(m, optimizer)
    parts = about_parts(m, optimizer)
    assert ("markdown", m.note) in parts
    assert ("markdown", f"**The update rule: {opt.title}**") in parts
    math = [text for kind, text in parts if kind == "math"]
    assert math[-len(split_lines(opt.formula)):] == formula_lines(opt.formula)
    assert "".join(split_lines(opt.formula)).replace(",", "") == \
        opt.formula.replace(r",\ ", "").replace(",", "")


def test_a_new_rule_is_explained_without_code_changes(monkeypatch):
    new = dataclasses.replace(dynamics.OPTIMIZERS["gd"], name="lion", title="Lion",
                              formula=r"\theta \leftarrow \theta - \eta\,\mathrm{sign}(m)")
    monkeypatch.setitem(dynamics.OPTIMIZERS, "lion", new)
    model = dynamics.MODELS["xy"]
    assert "**Lion**" in intro_text(model, "lion") and FALLBACK in intro_text(model, "lion")
    assert ("math", f"${new.formula}$") in about_parts(model, "lion")


def test_the_intro_names_the_threshold_each_rule_is_held_to():
    """Momentum is held to (2 + 2β)/η, Adam to 38/η's formula by λ_max(P⁻¹H); GD to 2/η."""
    model = dynamics.MODELS["xyzw"]
    assert "held to" not in about.intro_text(model, "gd")
    assert "**(2 + 2β)/η**" in about.intro_text(model, "momentum")
    adam = about.intro_text(model, "adam")
    assert "**(2 + 2β₁)/((1 − β₁)η)**" in adam and "P⁻¹H" in adam
    assert "P⁻¹H" in about.intro_text(model, "rmsprop")


def test_every_registered_rule_has_its_own_words():
    assert set(dynamics.OPTIMIZERS) <= set(about.WATCH)


def test_a_one_dimensional_model_is_not_called_a_landscape():
    assert "the loss along x" in about.intro_text(dynamics.MODELS["picky"], "gd")
    assert "grey = log-loss" not in about.intro_text(dynamics.MODELS["picky"], "gd")


def test_the_intro_tells_the_view_on_screen():
    from app.about import intro_text
    from app.pages import PAGES
    model = dynamics.MODELS["x2y2"]
    assert "The first plot shows" in intro_text(model, "gd")
    for name, page in PAGES.items():
        if name != "trajectory":
            text = intro_text(model, "gd", name)
            assert "The first plot shows" not in text and page.caption in text
