// A basin map in plain JavaScript, one cell after another in one thread: GD on
// L(x, y) = ¼(1 − x²y²)² (the model "x2y2", the seed's eq. (2)) from every start of a grid.
//
// With p = xy and r = p² − 1 (hand derivation, as tests/reference.py):
//   ∇L = (r p y, r p x),   H = [[y²(3p² − 1), p(4p² − 2)], [p(4p² − 2), x²(3p² − 1)]],
//   λ_max(H) = (a + c)/2 + √(((a − c)/2)² + b²) for H = [[a, b], [b, c]] (closed form).
//
// A cell stops when it diverges (a non-finite coordinate or |θ| > bound; it keeps its last
// finite iterate and counts the steps before it) or when its step moves it by at most tol
// (max over the coordinates of |θ_{k+1} − θ_k|). Two stopping rules:
//   checkEvery = 1:  the first step that moves it by at most tol (the peers' rule);
//   checkEvery = 16: as dynamics/_engine/cells.py checks, after every 16th step only, and
//                    only at a point GD cannot leave (0 ≤ λ_min, λ_max < 2/η).
// Two roundings of the same arithmetic:
//   fused = false: plain JavaScript, every product and sum rounded (the peers' code);
//   fused = true:  1 − p² and θ − η∇L each rounded once, as a fused multiply-add, which is
//                  what XLA compiles the engine's step to on this CPU; the map is then the
//                  engine's bit for bit (it matters: at η = 0.2 the early phase is chaotic,
//                  and a difference in the last bit can decide whether a cell diverges).
// JavaScript has no fused multiply-add; fma() below emulates it exactly (Boldo & Melquiond,
// "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to odd",
// IEEE TC 2008: an exact product, an exact sum, one sum rounded to odd, one rounded to
// nearest). tests/ui/test_basin_js.py checks it against exact rational arithmetic.

const _bits = new Float64Array(1);
const _words = new Uint32Array(_bits.buffer);   // little-endian: _words[0] holds the low bits

// Written out in scalars (no arrays returned): twoSum and Veltkamp's split inline.
function fma(a, b, c) {            // a·b + c rounded once
  // a·b = uh + ul exactly (Dekker's product, Veltkamp's split by 2^27 + 1)
  const uh = a * b;
  let t = 134217729 * a;
  const ah = t - (t - a), al = a - ah;
  t = 134217729 * b;
  const bh = t - (t - b), bl = b - bh;
  const ul = ((ah * bh - uh) + ah * bl + al * bh) + al * bl;
  // c + uh = th + tl exactly (Knuth's two-sum)
  const th = c + uh;
  t = th - c;
  const tl = (c - (th - t)) + (uh - t);
  return th + oddSum(tl, ul);
}

function oddSum(a, b) {            // a + b rounded to odd: exact, or of the two neighbours
  const s = a + b;                 // of the exact sum the one with an odd significand
  const t = s - a;
  const e = (a - (s - t)) + (b - t);   // a + b = s + e exactly
  if (e === 0 || !Number.isFinite(s)) return s;
  _bits[0] = s;
  if (_words[0] & 1) return s;
  // s is even: the odd neighbour lies on the side of the exact sum, one ulp away
  let lo = _words[0], hi = _words[1];
  if ((e > 0) === (s > 0)) { lo = (lo + 1) >>> 0; if (lo === 0) hi = (hi + 1) >>> 0; }
  else { if (lo === 0) hi = (hi - 1) >>> 0; lo = (lo - 1) >>> 0; }
  _words[0] = lo; _words[1] = hi;
  return _bits[0];
}

function hessian(x, y) {           // [a, b, c] of H = [[a, b], [b, c]]
  const p = x * y, q = 3 * p * p - 1;
  return [y * y * q, p * (4 * p * p - 2), x * x * q];
}

function eigenvalues(x, y) {       // [λ_min, λ_max] of H, closed form
  const [a, b, c] = hessian(x, y);
  const mean = 0.5 * (a + c), radius = Math.hypot(0.5 * (a - c), b);
  return [mean - radius, mean + radius];
}

function settled(x, y, eta) {     // a point GD with step η cannot leave
  const [low, high] = eigenvalues(x, y);
  return low >= -1e-10 * Math.max(1, Math.abs(high)) && high * eta < 2;
}

const _cell = new Float64Array(4);   // a cell's result: x, y, steps taken, diverged

// One cell, every operation rounded (the peers' code): the timed loop.
function plainCell(x, y, eta, steps, tol, bound, checkEvery) {
  let k = 0, diverged = 0;
  while (k < steps) {
    const p = x * y;
    const s = (p * p - 1) * p;
    const nx = x - eta * (s * y), ny = y - eta * (x * s);
    if (!(Math.abs(nx) <= bound && Math.abs(ny) <= bound)) { diverged = 1; break; }  // NaN too
    const moved = Math.max(Math.abs(nx - x), Math.abs(ny - y));
    x = nx; y = ny; k++;
    if (moved <= tol && k % checkEvery === 0 && (checkEvery === 1 || settled(x, y, eta))) break;
  }
  _cell[0] = x; _cell[1] = y; _cell[2] = k; _cell[3] = diverged;
}

// The same cell with x²y² − 1 and θ − η∇L each one fused multiply-add (the engine's rounding).
function fusedCell(x, y, eta, steps, tol, bound, checkEvery) {
  let k = 0, diverged = 0;
  while (k < steps) {
    const p = x * y;
    const s = fma(p, p, -1) * p;
    const nx = fma(-eta, s * y, x), ny = fma(-eta, x * s, y);
    if (!(Math.abs(nx) <= bound && Math.abs(ny) <= bound)) { diverged = 1; break; }
    const moved = Math.max(Math.abs(nx - x), Math.abs(ny - y));
    x = nx; y = ny; k++;
    if (moved <= tol && k % checkEvery === 0 && (checkEvery === 1 || settled(x, y, eta))) break;
  }
  _cell[0] = x; _cell[1] = y; _cell[2] = k; _cell[3] = diverged;
}

function basinMap({ xs, ys, eta, steps, tol, bound = 1e6, fused = false, checkEvery = 1 }) {
  const n = xs.length * ys.length;
  const out = {
    sharpness: new Float64Array(n), loss: new Float64Array(n), steps: new Int32Array(n),
    diverged: new Uint8Array(n), x: new Float64Array(n), y: new Float64Array(n),
  };
  const run = fused ? fusedCell : plainCell;
  let cell = 0;
  for (let j = 0; j < ys.length; j++) {
    for (let i = 0; i < xs.length; i++, cell++) {
      run(xs[i], ys[j], eta, steps, tol, bound, checkEvery);
      const x = _cell[0], y = _cell[1], q = 1 - (x * y) * (x * y);
      out.sharpness[cell] = eigenvalues(x, y)[1];
      out.loss[cell] = 0.25 * q * q;
      out.steps[cell] = _cell[2];
      out.diverged[cell] = _cell[3];
      out.x[cell] = x; out.y[cell] = y;
    }
  }
  return out;
}

// For page.evaluate: the map and its time (performance.now(), ms), arrays as plain lists.
function timedBasinMap(args) {
  const start = performance.now();
  const map = basinMap(args);
  const ms = performance.now() - start;
  const plain = {};
  for (const key in map) plain[key] = Array.from(map[key]);
  return { ms, ...plain };
}
