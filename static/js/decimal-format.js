/* Display formatting of exact decimal strings: parse to BigInt + scale, compare,
 * and round for display only (half away from zero). It does no arithmetic on
 * money: every figure the page shows was computed by the server. */

// A decimal string as {n: BigInt, scale}; null when it is not a plain decimal.
export function parse(s) {
  if (s === null || s === undefined || s === "") return null;
  const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(String(s).trim());
  if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) return null;
  const frac = m[3] || "";
  const n = BigInt((m[2] || "0") + frac);
  return { n: m[1] === "-" ? -n : n, scale: frac.length };
}

function pow10(k) { return 10n ** BigInt(k); }

// -1, 0 or 1; a missing value sorts first.
export function cmp(a, b) {
  const x = parse(a), y = parse(b);
  if (x === null || y === null) return x === y ? 0 : (x === null ? -1 : 1);
  const scale = Math.max(x.scale, y.scale);
  const xn = x.n * pow10(scale - x.scale), yn = y.n * pow10(scale - y.scale);
  return xn < yn ? -1 : (xn > yn ? 1 : 0);
}

export function sign(s) {
  const d = parse(s);
  return d === null ? 0 : (d.n > 0n ? 1 : (d.n < 0n ? -1 : 0));
}

// Round to `places` decimals, half away from zero; returns {neg, int, frac}.
function roundParts(s, places) {
  const d = parse(s);
  if (d === null) return null;
  const neg = d.n < 0n;
  let n = neg ? -d.n : d.n;
  if (d.scale > places) {
    const f = pow10(d.scale - places);
    const q = n / f, r = n % f;
    n = r * 2n >= f ? q + 1n : q;
  } else {
    n = n * pow10(places - d.scale);
  }
  const digits = n.toString().padStart(places + 1, "0");
  return {
    neg: neg && n !== 0n,
    int: digits.slice(0, digits.length - places),
    frac: places ? digits.slice(digits.length - places) : ""
  };
}

function group(int) { return int.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

export function fixed(s, places, opts = {}) {
  const p = roundParts(s, places);
  if (p === null) return opts.empty || "—";
  const frac = opts.trim ? p.frac.replace(/0+$/, "") : p.frac;
  const out = group(p.int) + (frac ? "." + frac : "");
  const prefix = p.neg ? "-" : (opts.plus && out.replace(/[0.,]/g, "") !== "" ? "+" : "");
  return prefix + (opts.unit || "") + out;
}

// Decimals to show for a price: 2 at or above 1, else 4 significant digits.
function pricePlaces(s) {
  const d = parse(s);
  if (d === null) return 2;
  const abs = d.n < 0n ? -d.n : d.n;
  if (abs >= pow10(d.scale) || abs === 0n) return 2;
  const leadingZeros = d.scale - abs.toString().length;
  return Math.min(Math.max(leadingZeros + 4, 4), 12);
}

export function amount(s) { return fixed(s, 8, { trim: true }); }
export function price(s) { return fixed(s, pricePlaces(s), { unit: "$" }); }
export function usd(s, plus) { return fixed(s, 2, { unit: "$", plus: !!plus }); }
export function percent(s, plus) {
  const out = fixed(s, 2, { plus: plus !== false });
  return out === "—" ? out : out + "%";
}

// Charts only: Chart.js plots numbers; labels and tooltips keep the exact string.
export function toNumber(s) { return s === null || s === undefined ? null : Number(s); }
