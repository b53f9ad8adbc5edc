/* Static full-text search over the Pagefind index written by site-builder.
 *
 * The index holds our own token stream (see site_builder/tokenizer.py), so this file
 * mirrors that module: normalise the query (NFKC, lower case, traditional -> simplified
 * with the generated character map), split it into clauses at spaces and punctuation,
 * turn each clause into its tokens and search them as an exact phrase. Every clause must
 * match. No request leaves this site.
 */
(function () {
  "use strict";

  var form = document.getElementById("search-form");
  if (!form || !window.siteT2S) return;

  var MAP = window.siteT2S;
  var HAN = new RegExp("^" + MAP.han + "$", "u");
  var DIGIT = /^\p{Nd}$/u;
  var ALNUM = /^[\p{L}\p{N}]$/u;
  var PAGE_SIZE = 10;
  var root = form.getAttribute("data-root") || "";

  var t2s = new Map();
  (function () {
    var from = Array.from(MAP.from), to = Array.from(MAP.to);
    for (var i = 0; i < from.length; i++) t2s.set(from[i], to[i]);
  })();

  function normalize(text) {
    var out = "";
    for (var ch of text.normalize("NFKC").toLowerCase()) out += t2s.get(ch) || ch;
    return out;
  }

  function kind(ch) {
    if (HAN.test(ch)) return "h";
    if (DIGIT.test(ch)) return "d";
    if (ALNUM.test(ch)) return "a";
    return " ";
  }

  function runs(text) {
    var out = [], chars = Array.from(text), start = 0;
    for (var i = 1; i <= chars.length; i++) {
      if (i === chars.length || kind(chars[i]) !== kind(chars[start])) {
        out.push({ kind: kind(chars[start]), chars: chars.slice(start, i) });
        start = i;
      }
    }
    return out;
  }

  /* tokenizer.stream for one clause (which has no gaps). */
  function stream(part) {
    var tokens = [], previous = null;
    runs(part).forEach(function (run) {
      if (run.kind === "h") {
        if (previous === "d" || previous === "a") tokens.push(run.chars[0]);
        for (var i = 0; i < run.chars.length; i++) tokens.push(run.chars.slice(i, i + 2).join(""));
      } else {
        tokens.push(run.chars.join(""));
      }
      previous = run.kind;
    });
    return tokens;
  }

  /* tokenizer.parse_query */
  function parseQuery(query) {
    var chars = Array.from(String(query)).slice(0, MAP.maxChars);
    var normalized = normalize(chars.join(""));
    var parts = [], current = "";
    runs(normalized).forEach(function (run) {
      if (run.kind === " ") { if (current) parts.push(current); current = ""; }
      else current += run.chars.join("");
    });
    if (current) parts.push(current);
    var clauses = [], seen = new Set();
    for (var i = 0; i < parts.length && clauses.length < MAP.maxTerms; i++) {
      var part = parts[i], tokens = stream(part), clause;
      if (!tokens.length) continue;
      if (Array.from(part).length === 1 && HAN.test(part)) {
        clause = { text: part, tokens: [part], char: true };
      } else {
        var all = runs(part);
        if (all[all.length - 1].kind === "h") tokens = tokens.slice(0, -1);
        clause = { text: part, tokens: tokens, char: false };
      }
      var key = clause.tokens.join(" ");
      if (!seen.has(key)) { seen.add(key); clauses.push(clause); }
    }
    return clauses;
  }

  /* A single Han character is a prefix search (it starts the token at its position);
     everything else is an exact phrase of consecutive tokens. */
  function pagefindQuery(clause) {
    return clause.char ? clause.tokens[0] : '"' + clause.tokens.join(" ") + '"';
  }

  /* The index is split into shards (pagefind/shards.json lists their folders): the first
     is loaded, the others are merged into it. */
  var pagefind = null;  // the promise of the loaded index: loaded once, however many callers
  function loadPagefind() {
    if (!pagefind) pagefind = openPagefind().catch(function (e) { pagefind = null; throw e; });
    return pagefind;
  }
  async function openPagefind() {
    var base = new URL(root + "pagefind/", document.baseURI).href;
    var response = await fetch(base + "shards.json");
    if (!response.ok) throw new Error("search index missing: " + response.status);
    var shards = (await response.json()).shards;
    if (!shards.length) return null;  // an archive without reports
    var pf = await import(base + shards[0] + "/pagefind.js");
    await pf.options({ excerptLength: 40 });
    // Pagefind picks its index and its query splitting from <html lang>: our index is
    // "und" and the query is already tokenised, so present "und" while it starts.
    var html = document.documentElement, lang = html.getAttribute("lang");
    html.setAttribute("lang", "und");
    try { pf.init(); } finally { html.setAttribute("lang", lang || ""); }
    for (var i = 1; i < shards.length; i++) {
      await pf.mergeIndex(base + shards[i] + "/", { language: "und" });
    }
    return pf;
  }

  /* All matching results (Pagefind result objects), best first. */
  async function searchAll(query, filters) {
    var clauses = parseQuery(query);
    if (!clauses.length) return { clauses: clauses, results: [] };
    var pf = await loadPagefind();
    if (!pf) return { clauses: clauses, results: [] };
    var options = { filters: {} };
    Object.keys(filters || {}).forEach(function (k) { if (filters[k]) options.filters[k] = filters[k]; });
    var lists = await Promise.all(clauses.map(function (c) { return pf.search(pagefindQuery(c), options); }));
    var results = lists[0] ? lists[0].results : [];
    for (var i = 1; i < lists.length; i++) {
      var ids = new Set(lists[i].results.map(function (r) { return r.id; }));
      results = results.filter(function (r) { return ids.has(r.id); });
    }
    return { clauses: clauses, results: results };
  }

  function unescapeHtml(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&amp;/g, "&");
  }

  /* Turn an excerpt of stream words back into text: a bigram gives its first character,
     a gap gives its punctuation; matched tokens give marked characters. */
  function stitch(excerpt) {
    var words = excerpt.trim().split(/\s+/).map(function (w) {
      var marked = /<mark>/.test(w);
      var text = unescapeHtml(w.replace(/<\/?mark>/g, ""));
      return { text: text, marked: marked };
    });
    var pieces = [], markNext = false;
    function emit(text, marked) {
      var last = pieces[pieces.length - 1];
      if (last && last.marked === marked) last.text += text; else pieces.push({ text: text, marked: marked });
    }
    for (var i = 0; i < words.length; i++) {
      var w = words[i], text = w.text;
      if (text.charAt(0) === "_") { emit(text.slice(1) || " ", false); markNext = false; continue; }
      if (text.length > 1 && text.charAt(text.length - 1) === "." && kind(text.charAt(text.length - 2)) !== " ") {
        text = text.slice(0, -1);  // Pagefind ends each block with "."
      }
      var chars = Array.from(text);
      if (chars.length && kind(chars[0]) === "h") {
        var next = words[i + 1];
        if (chars.length === 1 && next && Array.from(next.text)[0] === chars[0]) {
          markNext = markNext || w.marked;
          continue;  // the extra first character of a run after a number or a Latin word
        }
        emit(chars[0], w.marked || markNext);
        markNext = w.marked && chars.length === 2;
        if (chars.length === 2 && i === words.length - 1) emit(chars[1], w.marked);
      } else {
        emit(text, w.marked);
        markNext = false;
      }
    }
    return pieces;
  }

  function el(name, attrs, text) {
    var node = document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }

  var input = form.querySelector("input[name=q]");
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var current = { results: [], shown: 0, token: 0 };

  function filterValues() {
    var out = {};
    selects.forEach(function (s) { if (s.value) out[s.getAttribute("data-filter")] = s.value; });
    return out;
  }

  async function fillFilters() {
    var pf = await loadPagefind();
    var all = pf ? await pf.filters() : {};
    selects.forEach(function (select) {
      var name = select.getAttribute("data-filter"), wanted = select.getAttribute("data-value") || "";
      var values = Object.keys(all[name] || {}).sort(function (a, b) {
        return name === "year" ? b.localeCompare(a) : a.localeCompare(b, "zh-CN");
      });
      values.forEach(function (v) {
        var option = el("option", { value: v }, v + "（" + all[name][v] + "）");
        if (v === wanted) option.selected = true;
        select.appendChild(option);
      });
    });
  }

  async function renderMore() {
    var token = current.token;
    var slice = current.results.slice(current.shown, current.shown + PAGE_SIZE);
    var data = await Promise.all(slice.map(function (r) { return r.data(); }));
    if (token !== current.token) return;
    data.forEach(function (d) {
      var m = d.meta || {};
      var item = el("li", { "class": "search-result", "data-id": m.id || "" });
      var heading = el("h2", { "class": "search-result-title" });
      heading.appendChild(el("a", { href: root + "reports/" + encodeURIComponent(m.id || "") + "/" }, m.title || m.id));
      item.appendChild(heading);
      var facts = [m.place, m.year ? m.year + "年" : "", m.level].filter(Boolean).join(" · ");
      if (facts) item.appendChild(el("p", { "class": "search-result-meta" }, facts));
      var excerpt = el("p", { "class": "search-result-snippet" });
      var pieces = d.excerpt ? stitch(d.excerpt) : [];
      if (!pieces.some(function (p) { return p.marked; })) pieces = [{ text: m.summary || "", marked: false }];
      pieces.forEach(function (p) {
        excerpt.appendChild(p.marked ? el("mark", {}, p.text) : document.createTextNode(p.text));
      });
      item.appendChild(excerpt);
      list.appendChild(item);
    });
    current.shown += slice.length;
    more.hidden = current.shown >= current.results.length;
  }

  async function run(pushState) {
    var query = input.value;
    var filters = filterValues();
    var token = ++current.token;
    list.textContent = "";
    more.hidden = true;
    if (pushState) {
      var params = new URLSearchParams();
      if (query) params.set("q", query);
      Object.keys(filters).forEach(function (k) { params.set(k, filters[k]); });
      history.replaceState(null, "", "?" + params.toString());
    }
    if (!parseQuery(query).length) {
      status.textContent = query.trim() ? "请输入可检索的文字（汉字、数字或字母）。" : "";
      return;
    }
    status.textContent = "正在检索…";
    var found;
    try {
      found = await searchAll(query, filters);
    } catch (err) {
      if (token === current.token) status.textContent = "检索暂不可用。";
      return;
    }
    if (token !== current.token) return;
    current.results = found.results;
    current.shown = 0;
    status.textContent = found.results.length ? "共找到 " + found.results.length + " 篇报告。" : "没有找到包含“" + query.trim() + "”的报告。";
    await renderMore();
    document.body.setAttribute("data-search-done", String(token));
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); run(true); });
  more.addEventListener("click", function () { renderMore(); });

  var params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  selects.forEach(function (s) { s.setAttribute("data-value", params.get(s.getAttribute("data-filter")) || ""); });
  fillFilters().then(function () { if (input.value) run(false); }, function () {
    status.textContent = "检索索引未能加载。";
  });

  // For tests and other scripts: every matching report id, best first.
  window.siteSearch = {
    parseQuery: parseQuery,
    ids: async function (query, filters) {
      var found = await searchAll(query, filters || {});
      var data = await Promise.all(found.results.map(function (r) { return r.data(); }));
      return data.map(function (d) { return d.meta.id; });
    },
    stitch: stitch
  };
})();
