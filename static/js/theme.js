/* Light or dark: the system's choice (prefers-color-scheme) unless the person
 * picked one; the pick is remembered in localStorage. A classic script loaded
 * in <head> (not a module) so the theme is set before the first paint; no
 * inline script, so a strict CSP holds. */
(function () {
  "use strict";
  var KEY = "theme";
  var ORDER = ["auto", "light", "dark"];
  var NAMES = { auto: "Auto", light: "Light", dark: "Dark" };

  function stored() {
    try {
      var v = localStorage.getItem(KEY);
      return ORDER.indexOf(v) >= 0 ? v : "auto";
    } catch (e) {
      return "auto"; // storage refused (private mode): follow the system
    }
  }

  function apply(choice) {
    var root = document.documentElement;
    if (choice === "auto") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", choice);
    document.dispatchEvent(new CustomEvent("themechange", { detail: { choice: choice } }));
  }

  function label(button, choice) {
    button.textContent = "Theme: " + NAMES[choice];
    button.setAttribute("aria-label", "Colour theme: " + NAMES[choice] + " (change)");
  }

  apply(stored());

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    label(button, stored());
    button.addEventListener("click", function () {
      var next = ORDER[(ORDER.indexOf(stored()) + 1) % ORDER.length];
      try { localStorage.setItem(KEY, next); } catch (e) { /* not remembered */ }
      apply(next);
      label(button, next);
    });
  });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
      if (stored() === "auto") apply("auto");
    });
  }
})();
