/* Exact decimal strings: parse to BigInt + scale, add/multiply/divide exactly,
 * and format for display (rounding happens only here, half away from zero).
 * No float ever touches an amount, a price or a total. */
(function (global) {
  "use strict";

  function parse(s) {
    if (s === null || s === undefined || s === "") return null;
    var str = String(s).trim();
    var m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(str);
    if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) return null;
    var frac = m[3] || "";
    var n = BigInt((m[2] || "0") + frac);
    return { n: m[1] === "-" ? -n : n, scale: frac.length };
  }

  function pow10(k) { return 10n ** BigInt(k); }

  function align(a, b) {
    var scale = Math.max(a.scale, b.scale);
    return [a.n * pow10(scale - a.scale), b.n * pow10(scale - b.scale), scale];
  }

  function toString(d) {
    if (d === null) return null;
    var neg = d.n < 0n;
    var digits = (neg ? -d.n : d.n).toString();
    if (d.scale > 0) {
      digits = digits.padStart(d.scale + 1, "0");
      var i = digits.length - d.scale;
      digits = digits.slice(0, i) + "." + digits.slice(i);
      digits = digits.replace(/\.?0+$/, "");
    }
    return (neg && digits !== "0" ? "-" : "") + digits;
  }

  function wrap(fn) {
    return function () {
      var args = Array.prototype.map.call(arguments, function (x) {
        return typeof x === "object" && x !== null ? x : parse(x);
      });
      if (args.some(function (x) { return x === null; })) return null;
      return toString(fn.apply(null, args));
    };
  }

  function addD(a, b) { var x = align(a, b); return { n: x[0] + x[1], scale: x[2] }; }
  function subD(a, b) { var x = align(a, b); return { n: x[0] - x[1], scale: x[2] }; }
  function mulD(a, b) { return { n: a.n * b.n, scale: a.scale + b.scale }; }

  // a / b rounded half away from zero to `places` decimals; null when b is 0.
  function divD(a, b, places) {
    if (b.n === 0n) return null;
    var x = align(a, b);
    var num = x[0] * pow10(places + 1), den = x[1];
    var q = num / den;
    var r = q % 10n;
    q = q / 10n;
    if (r >= 5n) q += 1n; else if (r <= -5n) q -= 1n;
    return { n: q, scale: places };
  }

  function cmp(a, b) {
    a = parse(a); b = parse(b);
    if (a === null || b === null) return a === b ? 0 : (a === null ? -1 : 1);
    var x = align(a, b);
    return x[0] < x[1] ? -1 : (x[0] > x[1] ? 1 : 0);
  }

  function sign(s) { var d = parse(s); return d === null ? 0 : (d.n > 0n ? 1 : (d.n < 0n ? -1 : 0)); }

  // Round to `places` decimals, half away from zero; returns {neg, int, frac}.
  function roundParts(s, places) {
    var d = parse(s);
    if (d === null) return null;
    var neg = d.n < 0n, n = neg ? -d.n : d.n;
    if (d.scale > places) {
      var f = pow10(d.scale - places);
      var q = n / f, r = n % f;
      if (r * 2n >= f) q += 1n;
      n = q;
    } else {
      n = n * pow10(places - d.scale);
    }
    var digits = n.toString().padStart(places + 1, "0");
    var int = digits.slice(0, digits.length - places);
    var frac = places ? digits.slice(digits.length - places) : "";
    return { neg: neg && n !== 0n, int: int, frac: frac };
  }

  function group(int) { return int.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  function fixed(s, places, opts) {
    opts = opts || {};
    var p = roundParts(s, places);
    if (p === null) return opts.empty || "—";
    var frac = p.frac;
    if (opts.trim) frac = frac.replace(/0+$/, "");
    var out = group(p.int) + (frac ? "." + frac : "");
    var prefix = p.neg ? "-" : (opts.plus && out.replace(/[0.,]/g, "") !== "" ? "+" : "");
    return prefix + (opts.unit || "") + out;
  }

  // Decimals to show for a price: 2 at or above 1, else 4 significant digits.
  function pricePlaces(s) {
    var d = parse(s);
    if (d === null) return 2;
    var abs = d.n < 0n ? -d.n : d.n;
    if (abs >= pow10(d.scale) || abs === 0n) return 2;
    var digits = abs.toString();
    var leadingZeros = d.scale - digits.length;
    return Math.min(Math.max(leadingZeros + 4, 4), 12);
  }

  var Dec = {
    parse: parse,
    add: wrap(addD),
    sub: wrap(subD),
    mul: wrap(mulD),
    div: function (a, b, places) {
      var x = parse(a), y = parse(b);
      if (x === null || y === null) return null;
      return toString(divD(x, y, places === undefined ? 4 : places));
    },
    sum: function (list) {
      return list.reduce(function (acc, v) { return v === null || v === undefined ? acc : Dec.add(acc, v); }, "0");
    },
    cmp: cmp,
    sign: sign,
    fixed: fixed,
    amount: function (s) { return fixed(s, 8, { trim: true }); },
    price: function (s) { return fixed(s, pricePlaces(s), { unit: "$" }); },
    usd: function (s, plus) { return fixed(s, 2, { unit: "$", plus: !!plus }); },
    percent: function (s, plus) {
      var out = fixed(s, 2, { plus: plus !== false });
      return out === "—" ? out : out + "%";
    },
    toNumber: function (s) { return s === null || s === undefined ? null : Number(s); } // charts only
  };
  global.Dec = Dec;
})(typeof window !== "undefined" ? window : globalThis);
