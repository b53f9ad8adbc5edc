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

// On a report page opened from a search result (?hl=the query's clauses, normalised):
// mark where they occur in the title and text, and scroll to the first. The text is
// compared as the search compares it: NFKC, lower case, spaces between Han characters
// read through (the report's text is already in simplified characters).
(function () {
  "use strict";
  var HAN = /^\p{Script=Han}$/u, SPACE = /^[^\S\n]$/u;
  function mapped(text) {
    var chars = Array.from(text), out = [], from = [], at = 0, starts = [];
    chars.forEach(function (ch) { starts.push(at); at += ch.length; });
    for (var i = 0; i < chars.length; i++) {
      if (SPACE.test(chars[i]) && out.length && HAN.test(out[out.length - 1])) {
        var j = i;
        while (j < chars.length && SPACE.test(chars[j])) j++;
        if (j < chars.length && HAN.test(chars[j])) { i = j - 1; continue; }
      }
      Array.from(chars[i].normalize("NFKC").toLowerCase()).forEach(function (c) { out.push(c); from.push(i); });
    }
    return { chars: out, from: from, starts: starts.concat([at]) };
  }
  function markIn(node, terms) {
    var text = node.nodeValue, m = mapped(text), found = [];
    terms.forEach(function (term) {
      var needle = Array.from(term);
      for (var a = 0; a + needle.length <= m.chars.length; a++) {
        var k = 0;
        while (k < needle.length && m.chars[a + k] === needle[k]) k++;
        if (k === needle.length) found.push([m.starts[m.from[a]], m.starts[m.from[a + needle.length - 1] + 1]]);
      }
    });
    if (!found.length) return [];
    found.sort(function (x, y) { return x[0] - y[0] || y[1] - x[1]; });
    var marks = [], at = 0, parent = node.parentNode, frag = document.createDocumentFragment();
    found.forEach(function (r) {
      if (r[0] < at) return;
      frag.appendChild(document.createTextNode(text.slice(at, r[0])));
      var mark = document.createElement("mark");
      mark.className = "search-hit";
      mark.textContent = text.slice(r[0], r[1]);
      frag.appendChild(mark);
      marks.push(mark);
      at = r[1];
    });
    frag.appendChild(document.createTextNode(text.slice(at)));
    parent.replaceChild(frag, node);
    return marks;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var wanted = new URLSearchParams(location.search).get("hl");
    var places = document.querySelectorAll("h1, .report-body");
    if (!wanted || !places.length) return;
    var terms = wanted.split(/\s+/).filter(Boolean);
    var marks = [];
    places.forEach(function (place) {
      var walker = document.createTreeWalker(place, NodeFilter.SHOW_TEXT), nodes = [];
      while (walker.nextNode()) nodes.push(walker.currentNode);
      nodes.forEach(function (node) { marks.push.apply(marks, markIn(node, terms)); });
    });
    var first = marks.filter(function (m) { return !m.closest("h1"); })[0] || marks[0];
    if (first) { first.id = first.id || "search-hit"; first.scrollIntoView({ block: "center" }); }
    document.documentElement.setAttribute("data-search-marks", String(marks.length));
  });
}());
