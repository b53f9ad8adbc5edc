// Reading settings: font size and high contrast, kept across pages. Pages work without it.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function save(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function applyFont(size) {
    root.classList.remove("font-large", "font-small");
    if (size === "large" || size === "small") { root.classList.add("font-" + size); }
    document.querySelectorAll("[data-font]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-font") === (size || "medium")));
    });
  }
  function applyContrast(on) {
    root.classList.toggle("contrast", on);
    document.querySelectorAll("[data-contrast]").forEach(function (b) { b.setAttribute("aria-pressed", String(on)); });
  }
  applyFont(load("font-size"));
  applyContrast(load("contrast") === "1");
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-page-url]").forEach(function (el) { el.textContent = location.href; });
    applyFont(load("font-size"));
    applyContrast(load("contrast") === "1");
    document.addEventListener("click", function (event) {
      var b = event.target.closest("button");
      if (!b) { return; }
      if (b.hasAttribute("data-font")) { save("font-size", b.getAttribute("data-font")); applyFont(b.getAttribute("data-font")); }
      if (b.hasAttribute("data-contrast")) { var on = !root.classList.contains("contrast"); save("contrast", on ? "1" : "0"); applyContrast(on); }
      if (b.hasAttribute("data-print")) { window.print(); }
    });
  });
}());
