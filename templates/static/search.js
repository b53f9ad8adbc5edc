/* Static full-text search over the index written by site-builder (search/index/, see
 * site_builder/static_index.py).
 *
 * The index holds the token stream of site_builder/tokenizer.py, so this file mirrors
 * that module: normalise the query (NFKC, lower case, traditional -> simplified with the
 * generated character map), split it into clauses at spaces and punctuation, turn each
 * clause into its tokens and match them as consecutive positions. Every clause must
 * match. Results are ranked by BM25; excerpts are cut from the reports' published
 * report.json. No request leaves this site.
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

  /* --- the index (site_builder/static_index.py describes the files) --------------- */

  var index = null;  // the promise of the opened index: opened once, however many callers
  function loadIndex() {
    if (!index) index = openIndex().catch(function (e) { index = null; throw e; });
    return index;
  }
  async function openIndex() {
    var base = new URL(root + "search/index/", document.baseURI).href;
    var meta = await fetchData(base + "meta.json", "json");
    return { base: base, meta: meta, files: new Map() };
  }
  function fetchData(url, type) {
    return fetch(url).then(function (response) {
      if (!response.ok) throw new Error("search index missing: " + response.status);
      return type === "json" ? response.json() : response.arrayBuffer();
    });
  }
  /* Each file is fetched once per page view (the promise is kept). */
  function indexFile(ix, name, parse) {
    if (!ix.files.has(name)) {
      var loading = fetchData(ix.base + name, parse ? "bytes" : "json").then(parse || function (d) { return d; });
      loading.catch(function () { ix.files.delete(name); });
      ix.files.set(name, loading);
    }
    return ix.files.get(name);
  }

  var encoder = new TextEncoder(), decoder = new TextDecoder();
  function fnv1a(text) {
    var h = 0x811c9dc5, bytes = encoder.encode(text);
    for (var i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
    return h;
  }
  var CHAR = "\u0000", FILTER = "\u0001", IDS_PER_FILE = 64;  // as in static_index.py
  function bucketOf(token, buckets) {
    return ("00" + (fnv1a(token) % buckets).toString(16)).slice(-3) + ".bin";
  }
  function postingsOf(ix, shard, key) {
    return indexFile(ix, shard.name + "/" + bucketOf(key, shard.buckets), parseBucket)
      .then(function (bucket) { return bucket.postings(key); });
  }

  /* Varints and bytes read one after another from a file (static_index._Reader). */
  function reader(buffer) {
    var data = new Uint8Array(buffer), r = { at: 0 };
    r.varint = function () {
      var value = 0, shift = 0, byte;
      do { byte = data[r.at++]; value += (byte & 0x7f) * Math.pow(2, shift); shift += 7; } while (byte >= 0x80);
      return value;
    };
    r.text = function (size) { r.at += size; return decoder.decode(data.subarray(r.at - size, r.at)); };
    return r;
  }

  /* A bucket file: its directory, and each token's postings decoded on first use:
     postings(token) -> [[document, [positions]], ...] ([] for a token not there). */
  function parseBucket(buffer) {
    var r = reader(buffer), read = r.varint, directory = new Map(), entries = [];
    for (var t = read(); t > 0; t--) entries.push([r.text(read()), read(), read()]);
    entries.forEach(function (e) { directory.set(e[0], { docs: e[1], at: r.at, decoded: null }); r.at += e[2]; });
    function postings(token) {
      var entry = directory.get(token);
      if (!entry) return [];
      if (!entry.decoded) {
        var docs = [], doc = 0;
        r.at = entry.at;
        for (var d = entry.docs; d > 0; d--) {
          doc += read();
          var positions = [], position = 0;
          for (var p = read(); p > 0; p--) { position += read(); positions.push(position); }
          docs.push([doc, positions]);
        }
        entry.decoded = docs;
      }
      return entry.decoded;
    }
    return { postings: postings };
  }

  /* docs.bin: the length of each report's stream and of its title's. */
  function parseDocs(buffer) {
    var read = reader(buffer).varint;
    var count = read(), length = new Array(count), title = new Array(count);
    for (var d = 0; d < count; d++) { length[d] = read(); title[d] = read(); }
    return { length: length, title: title };
  }

  /* Where a clause matches in one shard: document -> [occurrences, in the title]. A
     single Han character starts the token at each of its positions; anything else is a
     phrase of consecutive tokens. */
  async function matchClause(ix, shard, docs, clause) {
    var found = new Map();
    if (clause.char) {
      (await postingsOf(ix, shard, CHAR + clause.tokens[0])).forEach(function (posting) {
        count(found, docs, posting[0], posting[1]);
      });
      return found;
    }
    var needed = neededTokens(clause.tokens);
    var lists = await Promise.all(needed.map(function (n) { return postingsOf(ix, shard, n[1]); }));
    if (lists.some(function (l) { return !l.length; })) return found;
    var rest = lists.slice(1).map(function (list) {
      var byDoc = new Map();
      list.forEach(function (posting) { byDoc.set(posting[0], new Set(posting[1])); });
      return byDoc;
    });
    lists[0].forEach(function (posting) {
      var doc = posting[0], sets = rest.map(function (byDoc) { return byDoc.get(doc); });
      if (sets.some(function (s) { return !s; })) return;
      var at = posting[1].filter(function (p) {
        return sets.every(function (s, i) { return s.has(p + needed[i + 1][0]); });
      });
      if (at.length) count(found, docs, doc, at);
    });
    return found;
  }
  /* [offset, token] pairs a phrase must have. Of three bigrams in a row of one Han run
     ("营商 商环 环境") the middle one is implied by its neighbours (its two characters are
     theirs, and adjacent Han characters are one run), so every other one is left out:
     half the files to fetch for a long phrase, the same matches. */
  function neededTokens(tokens) {
    function bigram(i) { var c = Array.from(tokens[i] || ""); return c.length === 2 && HAN.test(c[0]) && HAN.test(c[1]); }
    function chained(i) { return Array.from(tokens[i - 1])[1] === Array.from(tokens[i])[0]; }
    var out = [], skipped = false;
    for (var i = 0; i < tokens.length; i++) {
      var implied = !skipped && i > 0 && i < tokens.length - 1 && bigram(i - 1) && bigram(i) && bigram(i + 1)
        && chained(i) && chained(i + 1) && out.length && out[out.length - 1][0] === i - 1;
      if (implied) { skipped = true; continue; }
      skipped = false;
      out.push([i, tokens[i]]);
    }
    return out;
  }
  function count(found, docs, doc, positions) {
    var seen = found.get(doc) || [0, 0], title = docs.title[doc];
    seen[0] += positions.length;
    positions.forEach(function (p) { if (p < title) seen[1]++; });
    found.set(doc, seen);
  }

  /* All matching reports of one shard: for each clause, how many documents match it;
     and the documents matching every clause and the filters, with their counts. */
  async function searchShard(ix, shard, clauses, filters) {
    var docs = await indexFile(ix, shard.name + "/docs.bin", parseDocs);
    var wanted = await Promise.all(Object.keys(filters).map(function (k) {
      return postingsOf(ix, shard, FILTER + k + "=" + filters[k]).then(function (postings) {
        return new Set(postings.map(function (p) { return p[0]; }));
      });
    }));
    var matches = await Promise.all(clauses.map(function (c) { return matchClause(ix, shard, docs, c); }));
    var hits = [];
    matches[0].forEach(function (first, doc) {
      var counts = matches.map(function (m) { return m.get(doc); });
      if (counts.some(function (c) { return !c; })) return;
      if (wanted.some(function (docsWith) { return !docsWith.has(doc); })) return;
      hits.push({ shard: shard, doc: doc, length: docs.length[doc], counts: counts });
    });
    var length = docs.length.reduce(function (a, b) { return a + b; }, 0);
    return { df: matches.map(function (m) { return m.size; }), hits: hits, length: length };
  }

  /* BM25 over the clauses (a match in the title counts three times), best first, then
     in index order (shard, report): the same order on every run. */
  function rank(meta, shards) {
    var total = meta.reports, k1 = 1.2, b = 0.75;
    var average = shards.reduce(function (a, s) { return a + s.length; }, 0) / Math.max(total, 1);
    var df = shards[0].df.map(function (_, c) {
      return shards.reduce(function (a, s) { return a + s.df[c]; }, 0);
    });
    var idf = df.map(function (n) { return Math.log(1 + (total - n + 0.5) / (n + 0.5)); });
    var hits = [];
    shards.forEach(function (s) { hits.push.apply(hits, s.hits); });
    hits.forEach(function (hit) {
      hit.score = hit.counts.reduce(function (score, c, i) {
        var tf = c[0] + 2 * c[1];
        return score + idf[i] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * hit.length / (average || 1)));
      }, 0);
    });
    var order = new Map(meta.shards.map(function (s, i) { return [s.name, i]; }));
    return hits.sort(function (x, y) {
      return y.score - x.score || order.get(x.shard.name) - order.get(y.shard.name) || x.doc - y.doc;
    });
  }

  /* The ids of hits (what links and report.json need), from the shards' ids files. */
  async function idsOf(hits) {
    var ix = await loadIndex();
    return Promise.all(hits.map(function (hit) {
      var name = hit.shard.name + "/ids-" + Math.floor(hit.doc / IDS_PER_FILE) + ".json";
      return indexFile(ix, name).then(function (ids) { return ids[hit.doc % IDS_PER_FILE]; });
    }));
  }

  /* All matching reports ({shard, doc, score}), best first. */
  async function searchAll(query, filters) {
    var clauses = parseQuery(query);
    if (!clauses.length) return { clauses: clauses, results: [] };
    var ix = await loadIndex();
    if (!ix.meta.shards.length) return { clauses: clauses, results: [] };  // an archive without reports
    var wanted = {};
    Object.keys(filters || {}).forEach(function (k) {
      if (filters[k] && Object.prototype.hasOwnProperty.call(ix.meta.filters, k)) wanted[k] = String(filters[k]);
    });
    var shards = await Promise.all(ix.meta.shards.map(function (s) { return searchShard(ix, s, clauses, wanted); }));
    return { clauses: clauses, results: rank(ix.meta, shards) };
  }

  /* --- excerpts: cut from the report's text (reports/<id>/report.json) ------------- */

  var EXCERPT_BEFORE = 20, EXCERPT_CHARS = 90;

  /* The text normalised character by character, and where each character came from. */
  function normalizeMapped(text) {
    var out = "", origin = [], offset = 0;
    for (var ch of text) {
      var n = normalize(ch);
      for (var i = 0; i < n.length; i++) origin.push(offset);
      out += n;
      offset += ch.length;
    }
    origin.push(offset);
    return { text: out, origin: origin };
  }

  /* Where a clause's text occurs: a digit or Latin run in it matches whole runs only. */
  function occurrences(normalized, term) {
    var found = [], from = 0, first = kind(Array.from(term)[0]), last = kind(Array.from(term).pop());
    for (;;) {
      var at = normalized.indexOf(term, from);
      if (at < 0) return found;
      from = at + 1;
      var before = at > 0 ? kind(normalized.charAt(at - 1)) : " ";
      var after = kind(normalized.charAt(at + term.length) || " ");
      if ((first === "d" || first === "a") && before === first) continue;
      if ((last === "d" || last === "a") && after === last) continue;
      found.push([at, at + term.length]);
    }
  }

  /* Pieces of text ({text, marked}) around the first match in `text`, every clause's
     matches marked; the text's beginning when nothing matches in it. */
  function excerpt(text, clauses) {
    var mapped = normalizeMapped(text), marks = [];
    clauses.forEach(function (c) { marks.push.apply(marks, occurrences(mapped.text, c.text)); });
    marks.sort(function (x, y) { return x[0] - y[0] || y[1] - x[1]; });
    var start = marks.length ? Math.max(0, marks[0][0] - EXCERPT_BEFORE) : 0;
    var end = Math.min(mapped.text.length, start + EXCERPT_CHARS);
    var pieces = [], at = start;
    function emit(from, to, marked) {
      if (to <= from) return;
      var piece = text.slice(mapped.origin[from], mapped.origin[to]).replace(/\s+/g, " ");
      var last = pieces[pieces.length - 1];
      if (last && last.marked === marked) last.text += piece; else pieces.push({ text: piece, marked: marked });
    }
    marks.forEach(function (m) {
      if (m[1] <= at || m[0] >= end) return;
      emit(at, Math.max(at, m[0]), false);
      emit(Math.max(at, m[0]), Math.min(m[1], end), true);
      at = Math.min(m[1], end);
    });
    emit(at, end, false);
    if (start > 0) pieces.unshift({ text: "…", marked: false });
    if (end < mapped.text.length) pieces.push({ text: "…", marked: false });
    return pieces;
  }

  function reportData(id) {
    return fetchData(root + "reports/" + encodeURIComponent(id) + "/report.json", "json").catch(function () {
      return { title: id, text: "" };
    });
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
  var current = { results: [], clauses: [], shown: 0, token: 0 };

  function filterValues() {
    var out = {};
    selects.forEach(function (s) { if (s.value) out[s.getAttribute("data-filter")] = s.value; });
    return out;
  }

  async function fillFilters() {
    var all = (await loadIndex()).meta.filters;
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
    var ids = await idsOf(slice);
    var data = await Promise.all(ids.map(reportData));
    if (token !== current.token) return;
    data.forEach(function (d, i) {
      var id = ids[i];
      var item = el("li", { "class": "search-result", "data-id": id });
      var heading = el("h2", { "class": "search-result-title" });
      heading.appendChild(el("a", { href: root + "reports/" + encodeURIComponent(id) + "/" }, d.title || id));
      item.appendChild(heading);
      var facts = [d.place, d.year ? d.year + "年" : "", d.level].filter(Boolean).join(" · ");
      if (facts) item.appendChild(el("p", { "class": "search-result-meta" }, facts));
      var snippet = el("p", { "class": "search-result-snippet" });
      excerpt(d.text || "", current.clauses).forEach(function (p) {
        snippet.appendChild(p.marked ? el("mark", {}, p.text) : document.createTextNode(p.text));
      });
      item.appendChild(snippet);
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
    current.clauses = found.clauses;
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

  // For tests and other scripts: every matching report id, best first; an excerpt.
  window.siteSearch = {
    parseQuery: parseQuery,
    ids: async function (query, filters) {
      return idsOf((await searchAll(query, filters || {})).results);
    },
    excerpt: function (text, query) { return excerpt(text, parseQuery(query)); },
    neededTokens: neededTokens
  };
})();
