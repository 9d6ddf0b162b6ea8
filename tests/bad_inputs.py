"""Every bad input the explorer answers, once, with (a substring of) the words it answers with.

One row per case: where it is given, what is given, what the user reads.

  api    ("function", args, kwargs) called on ``dynamics``: a ValueError whose message holds
         ``expect``; ``expect = DIVERGED`` is no error but a Trajectory with ``diverged_at``
         set (divergence is a result).
  link   a query string opened as ``/main?…``: the words on the page (the link's notice, the
         message in place of the verdict, the verdict, a view's own message).
  typed  ``(("name", "text"), …)`` typed into the controls, in order, after opening the link
         ``start`` (default: the bare page): the message in place of the verdict. An empty
         ``expect`` means the value is accepted.
  cli    ``python -m app.export`` argv: one line on stderr holding ``expect``, exit status 2.

``browser=True`` rows are also run in a real browser (tests/ui/test_bad_input.py); every row
runs in tests/test_bad_input.py. The words are the app's own: change them here and there.
(Text that is not a number — "abc", "nan", "inf" — typed into Bokeh's number boxes never
reaches the server: the box puts its last value back by itself. Those rows run on the state.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

DIVERGED = "<diverged>"
ETA_RANGE = "it must lie in (0, 0.5]"   # xyzw's η slider ends at 0.5
NGD_ORIGIN = ("Normalized GD is undefined at a stationary point (∇L = 0): the start (0, 0) "
              "is one — move the start.")
SQRT_MINIMUM = ("GD on √L is undefined where L = 0 (its step ∇L/(2√L) is 0/0): the start "
                "(1, 0) is a minimum — move the start.")


@dataclass(frozen=True)
class Case:
    where: str            # "api" | "link" | "typed" | "cli"
    given: object
    expect: str
    browser: bool = False
    start: str = ""       # typed rows: the link opened before typing

    @property
    def id(self) -> str:
        return f"{self.where}:{str(self.given)[:60]}"


def api(fn, *args, expect, **kwargs) -> Case:
    return Case("api", (fn, args, kwargs), expect)


XY = ("xy", (1.0, 1.0))
CASES = [
    # --- the engine: dynamics.simulate and friends --------------------------------------------
    api("simulate", *XY, 0.0, 10, expect="The step size η must be a positive, finite number; got 0.0."),
    api("simulate", *XY, -0.1, 10, expect="must be a positive, finite number; got -0.1."),
    api("simulate", *XY, math.nan, 10, expect="must be a positive, finite number; got nan."),
    api("simulate", *XY, math.inf, 10, expect="must be a positive, finite number; got inf."),
    api("simulate", *XY, "abc", 10, expect="The step size η must be a number; got 'abc'."),
    api("simulate", *XY, None, 10, expect="must be a positive number or a schedule"),
    api("simulate", "x2y2", (100.0, 100.0), 0.5, 10, expect=DIVERGED),      # overflows: a result
    api("simulate", "xy", (1.0, 2.0), 1e300, 5, expect=DIVERGED),            # a huge η too
    api("simulate", "xy", (), 0.1, 10, expect="so the init needs 2 number(s); got 0."),
    api("simulate", "xy", (math.nan, 1.0), 0.1, 10, expect="The init must be finite numbers"),
    api("simulate", "xy", ("a", "b"), 0.1, 10, expect="The init must be a list of 2 numbers"),
    api("simulate", "xy", (1e7, 1.0), 0.1, 10, expect="is beyond |θ| ≤ 1e+06"),
    api("simulate", *XY, 0.1, 0, expect="The number of steps must be at least 1; got 0."),
    api("simulate", *XY, 0.1, 10**9, expect="1000000000 steps is too many for an interactive run"),
    api("simulate", *XY, 0.1, 2.5, expect="The number of steps must be a whole number; got 2.5."),
    api("simulate", *XY, 0.1, "10", expect="must be a whole number; got '10'."),
    api("simulate", "rosenbrock", (1.0, 1.0), 0.1, 10, expect="Unknown model 'rosenbrock'"),
    api("simulate", *XY, 0.1, 10, optimizer="lion", expect="Unknown optimizer 'lion'"),
    api("simulate", *XY, 0.1, 10, optimizer="sgd",
        expect="SGD needs a loss that is a sum over samples; the model 'xy' is not one"),
    api("simulate", *XY, [(0, 0.1), (10, 0.2), (4, 0.3)], 20,
        expect="Schedule steps must increase; got [0, 10, 4]."),             # goes backwards
    api("simulate", *XY, [(5, 0.1)], 20, expect="A step-size schedule must start at step 0"),
    api("simulate", *XY, [(0, 0.1), (5, -0.2)], 20,
        expect="The step size η at step 5 must be a positive, finite number; got -0.2."),
    api("simulate", "xy", (0.0, 0.0), 0.1, 10, optimizer="normalized_gd", expect=NGD_ORIGIN),
    api("simulate", "arora", (0.0, 0.0), 0.1, 10, optimizer="normalized_gd", expect=NGD_ORIGIN),
    api("simulate", "arora", (1.0, 0.0), 0.1, 10, optimizer="sqrt_gd", expect=SQRT_MINIMUM),
    api("sweep_eta", *XY, [0.1, -0.2], 10, expect="must be a positive, finite number; got -0.2"),
    api("sweep_init", "xy", 0.0, [1.0, 2.0], [0.5], 10, expect="must be a positive, finite number"),
    api("sharpness", "xyzw", (1.0, 2.0), expect="the params needs 4 number(s); got 2."),
    api("quadratic", [], expect="A quadratic needs at least one eigenvalue λ."),
    api("quadratic", [1.0, math.nan],
        expect="Every λ of a quadratic must be a finite number; got (1.0, nan)."),

    # --- links: /main?… ---------------------------------------------------------------------
    Case("link", "eta=0", "Ignored eta=0 from the link: " + ETA_RANGE, browser=True),
    Case("link", "eta=-1", "Ignored eta=-1 from the link: " + ETA_RANGE),
    Case("link", "eta=1e308", "Ignored eta=1e308 from the link: " + ETA_RANGE),
    Case("link", "eta=nan", "Ignored eta=nan from the link: it is not a finite number.",
         browser=True),
    Case("link", "eta=inf", "Ignored eta=inf from the link: it is not a finite number."),
    Case("link", "eta=abc", "Ignored eta=abc from the link: it is not a number.", browser=True),
    Case("link", "eta=", "Ignored eta= from the link: it is empty."),
    Case("link", "x0=abc", "Ignored x0=abc from the link: it is not a number."),
    Case("link", "x0=1e300", "Ignored x0=1e300 from the link: it must lie in [-1e+06, 1e+06]."),
    Case("link", "steps=100000000",
         "Ignored steps=100000000 from the link: it must lie between 1 and 20000."),
    Case("link", "steps=0", "Ignored steps=0 from the link: it must lie between 1 and 20000."),
    Case("link", "steps=2.5", "Ignored steps=2.5 from the link: it must be a whole number."),
    Case("link", "model=rosenbrock", "Ignored model=rosenbrock from the link: it is not one of "
         "the choices: quadratic, xy, x2y2, xyzw, arora, picky, sharpening.", browser=True),
    Case("link", "optimizer=lion", "Ignored optimizer=lion from the link: it is not one of the "
         "choices for the model 'xyzw': gd, normalized_gd", browser=True),
    Case("link", "optimizer=sgd", "Ignored optimizer=sgd from the link: it is not one of the "
         "choices for the model 'xyzw'"),
    Case("link", "preset=nope", "Ignored preset=nope from the link: there is no such preset; "
         "the presets are quadratic-split", browser=True),
    Case("link", "view=nope", "Ignored view=nope from the link: it is not one of the choices: "
         "trajectory, basin, sweep", browser=True),
    Case("link", "model=xy&x0=0&y0=0", "Started at a stationary point that is not a minimum "
         "(∇L = 0 but L = 0.5): GD never moves. Pick another start.", browser=True),
    Case("link", "model=xy&optimizer=normalized_gd&x0=0&y0=0", NGD_ORIGIN, browser=True),
    Case("link", "model=arora&optimizer=normalized_gd&x0=0&y0=0", NGD_ORIGIN),
    Case("link", "model=arora&optimizer=sqrt_gd&x0=1&y0=0", SQRT_MINIMUM, browser=True),
    Case("link", "model=xy&x0=1&y0=1", "Started exactly on a minimum at (x, y) ≈ (1, 1): "
         "∇L = 0 there, so GD never moves (sharpness 2, 2/η = 10).", browser=True),
    Case("link", "model=xy&eta=0.9&x0=3&y0=3", "Diverged at step 3", browser=True),
    Case("link", "drop_step=10&drop_eta=-1", "Ignored drop_eta=-1 from the link: " + ETA_RANGE),
    Case("link", "drop_step=-5", "Ignored drop_step=-5 from the link: it must lie between 0 and "
         "20000."),
    Case("link", "compare=garbage", "Compared run 1 (garbage) left out: 'garbage' is not "
         "name:value.", browser=True),
    Case("link", "compare=eta:-1", "Compared run 1 (eta:-1) left out: eta=-1: " + ETA_RANGE),
    Case("link", "compare=lr:0.1", "Compared run 1 (lr:0.1) left out: 'lr' is not a control a "
         "compared run can set."),
    Case("link", "cursor=abc", "Ignored cursor=abc from the link: it is not a number."),
    Case("link", "cursor=-5", "Ignored cursor=-5 from the link: it must lie between -1 and "
         "20000."),
    Case("link", "view=basin&basin_res=16&basin_window=1,0,0,1", "Ignored basin_window=1,0,0,1 "
         "from the link: each range must run from a smaller to a larger number.", browser=True),
    Case("link", "basin_window=a,b", "Ignored basin_window=a,b from the link: it must be 4 "
         "numbers x₀,x₁,y₀,y₁ separated by commas."),
    Case("link", "basin_res=3", "Ignored basin_res=3 from the link: it must lie between 8 and "
         "512."),
    Case("link", "basin_steps=0", "Ignored basin_steps=0 from the link: it must lie between 1 "
         "and 50000."),
    Case("link", "basin_colour=red", "Ignored basin_colour=red from the link: it is not one of "
         "the choices: sharpness, loss, settled."),
    Case("link", "view=sweep&sweep_eta_from=0.5&sweep_eta_to=0.1",
         "η from (0.5) must be below η to (0.1).", browser=True),          # a range backwards
    Case("link", "sweep_eta_from=0", "Ignored sweep_eta_from=0 from the link: " + ETA_RANGE),
    Case("link", "sweep_count=1", "Ignored sweep_count=1 from the link: it must lie between 2 "
         "and 500."),
    Case("link", "sweep_keep=300", "Ignored sweep_keep=300 from the link: it must lie between "
         "2 and 256."),
    Case("link", "sweep_steps=5", "Ignored sweep_steps=5 from the link: it must lie between 10 "
         "and 100000."),
    Case("link", "sweep_quantity=x", "Ignored sweep_quantity=x from the link: it is not one of "
         "the choices"),
    Case("link", "symmetric=maybe", "Ignored symmetric=maybe from the link: it must be true or "
         "false."),
    Case("link", "x_axis=sideways", "Ignored x_axis=sideways from the link: it is not one of "
         "the choices: step, time."),
    Case("link", "seed=-1", "Ignored seed=-1 from the link: it must lie between 0 and "
         "2147483647."),
    Case("link", "optimizer=momentum&beta=1", "Ignored beta=1 from the link: it must lie in "
         "[0, 1)."),
    Case("link", "optimizer=adam&eps=0", "Ignored eps=0 from the link: it must lie in (0, 1]."),
    Case("link", "model=quadratic&lam1=nan", "Ignored lam1=nan from the link: it is not a "
         "finite number."),

    # --- typed into the controls --------------------------------------------------------------
    Case("typed", (("eta", "abc"),), "η = abc — it is not a number. Kept η = 0.2; the plots "
         "show that run."),   # a browser's number box never sends it: see the module's note
    Case("typed", (("eta", ""),), "the η box is empty — type a number. Kept η = 0.2",
         browser=True),
    Case("typed", (("eta", "0"),), "η = 0 — " + ETA_RANGE + ". Kept η = 0.2", browser=True),
    Case("typed", (("eta", "-1"),), "η = -1 — " + ETA_RANGE + ". Kept η = 0.2"),
    Case("typed", (("eta", "1e308"),), ETA_RANGE + ". Kept η = 0.2",   # (a browser: 1e+308)
         browser=True),
    Case("typed", (("eta", "nan"),), "η = nan — it is not a finite number. Kept η = 0.2"),
    Case("typed", (("eta", "inf"),), "η = inf — it is not a finite number. Kept η = 0.2"),
    Case("typed", (("eta", "1e-9"),), ""),     # tiny but positive: accepted, not rounded to 0
    Case("typed", (("x0", "abc"),), "x₀ = abc — it is not a number. Kept x₀ = 2.8"),
    Case("typed", (("x0", ""),), "the x₀ box is empty — type a number. Kept x₀ = 2.8"),
    Case("typed", (("x0", "1e7"),), "it must lie in [-1e+06, 1e+06]. Kept x₀ = 2.8",
         browser=True),
    Case("typed", (("x0", "nan"),), "x₀ = nan — it is not a finite number. Kept x₀ = 2.8"),
    Case("typed", (("x0", "0"), ("y0", "0")), NGD_ORIGIN, browser=True,
         start="model=xy&optimizer=normalized_gd&x0=1.5&y0=0.5"),
    Case("typed", (("steps", "100000"),), "steps = 100000 — it must lie between 1 and 20000. "
         "Kept steps = 1500"),
    Case("typed", (("steps", "2.5"),), "steps = 2.5 — it must be a whole number."),
    Case("typed", (("drop_eta", "0"),), "η after the drop = 0 — " + ETA_RANGE),
    Case("typed", (("seed", "-3"),), "seed = -3 — it must lie between 0 and 2147483647."),
    Case("typed", (("optimizer", "sgd"),), "optimizer = sgd — it is not one of the choices for "
         "the model 'xyzw'"),
    Case("typed", (("basin_window", "1,0,0,1"),), "map window = 1,0,0,1 — each range must run "
         "from a smaller to a larger number. Kept map window = the model's default"),
    Case("typed", (("sweep_eta_from", "abc"),), "η from = abc — it is not a number."),
    Case("typed", (("sweep_eta_from", "0.5"), ("sweep_eta_to", "0.1")),
         "η from (0.5) must be below η to (0.1).", start="view=sweep"),

    # --- the export CLI: python -m app.export ... ---------------------------------------------
    Case("cli", ["--query", "eta=abc"], "app.export: error: eta=abc: it is not a number."),
    Case("cli", ["--query", "eta=0"], "app.export: error: eta=0: " + ETA_RANGE),
    Case("cli", ["--query", "eta=nan"], "app.export: error: eta=nan: it is not a finite number"),
    Case("cli", ["--query", "steps=99999999"], "steps=99999999: it must lie between 1 and 20000"),
    Case("cli", ["--query", "model=rosen"], "model=rosen: it is not one of the choices: "
         "quadratic"),
    Case("cli", ["--query", "model=xy&optimizer=normalized_gd&x0=0&y0=0"],
         "app.export: error: " + NGD_ORIGIN),
    Case("cli", ["--query", "model=arora&optimizer=sqrt_gd&x0=1&y0=0"], SQRT_MINIMUM),
    Case("cli", ["--query", "lr=0.1"], "app.export: error: 'lr' is not a query name"),
    Case("cli", ["--query", "compare=eta:-1"], "Compared run 1 (eta:-1) left out: eta=-1: "
         + ETA_RANGE),
    Case("cli", ["--query", "view=sweep&sweep_eta_from=0.5&sweep_eta_to=0.1", "--view", "sweep"],
         "app.export: error: η from (0.5) must be below η to (0.1)."),
    Case("cli", ["--preset", "nope"], "app.export: error: there is no preset 'nope'"),
    Case("cli", ["--preset", "zhu-fig2a", "--view", "nope"], "there is no view 'nope'"),
    Case("cli", ["--preset", "zhu-fig2a", "--format", "gif"], "there is no format 'gif'"),
    Case("cli", ["--preset", "zhu-fig2a", "--width", "-3"], "--width = -3: it must be a "
         "positive number"),
    Case("cli", ["--preset", "zhu-fig2a", "--width", "abc"], "argument --width: invalid float "
         "value: 'abc'"),
    Case("cli", ["--query", "eta=0.1", "--no-such-flag"], "unrecognized arguments: "
         "--no-such-flag"),
]


def cases(where: str, browser: bool | None = None) -> list[Case]:
    """The rows given at ``where`` (only the browser's, with ``browser=True``)."""
    return [c for c in CASES if c.where == where and (browser is None or c.browser == browser)]
