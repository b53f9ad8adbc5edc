/* Static full-text search over the index written by site-builder (search/index/; the
 * format is written down in site_builder/search/static_format.py).
 *
 * It mirrors the Python side line for line where the engines must agree:
 * - the query: normalised (NFKC, lower case, traditional -> simplified with the generated
 *   character map), split into clauses at spaces and punctuation (search/query.py);
 * - each clause's tokens (text/stream.py) and how it is matched (search/plan.py): one
 *   character, one token or two by a doc-level key, three tokens or more by the positions
 *   of the triples that cover it;
 * - the ranking (search/ranking.py): title matches first, then the clauses' idf times
 *   their weight codes, then the place in the index.
 * Every clause must match. A query costs a few requests per clause (a bucket, and a
 * common key's own file), whatever the size of the archive. No request leaves this site.
 */
(function () {
  "use strict";

  var MAP = window.siteT2S;
  if (!MAP) return;

  var HAN = new RegExp("^" + MAP.han + "$", "u");
  var DIGIT = /^\p{Nd}$/u;
  var ALNUM = /^[\p{L}\p{N}]$/u;
  var SPACE = /^[^\S\n\r\u000b\u000c\u001c-\u001e\u0085\u2028\u2029]$/u;
  var PAGE_SIZE = 10;
  var CHAR = "\u0000", WORD = "\u0001", PAIR = "\u0002", TRIPLE = "\u0003", SEPARATOR = "\u001f";
  var TITLE = 0, PARTS = 5;

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

  /* text/stream.py's stream of one clause (which has no gaps). */
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

  /* search/query.py: parse (clauses, and the terms beyond the limit) */
  function parseQuery(query) {
    var chars = Array.from(String(query)).slice(0, MAP.maxChars * 4)
      .map(function (ch) { return ch !== " " && /^[\p{C}\p{Z}]$/u.test(ch) ? " " : ch; })
      .slice(0, MAP.maxChars);
    var normalized = normalize(chars.join(""));
    var parts = [], current = "";
    runs(normalized).forEach(function (run) {
      if (run.kind === " ") { if (current) parts.push(current); current = ""; }
      else current += run.chars.join("");
    });
    if (current) parts.push(current);
    var clauses = [], seen = new Set(), dropped = [];
    for (var i = 0; i < parts.length; i++) {
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
      if (seen.has(key)) continue;
      if (clauses.length >= MAP.maxTerms) { dropped.push(part); continue; }
      seen.add(key);
      clauses.push(clause);
    }
    return { clauses: clauses, dropped: dropped };
  }

  /* search/analysis.py key_text */
  function bigram(token) {
    var c = Array.from(token);
    return c.length === 2 && HAN.test(c[0]) && HAN.test(c[1]);
  }
  function keyText(tokens) {
    var out = tokens[0];
    for (var i = 1; i < tokens.length; i++) {
      var before = Array.from(tokens[i - 1]), token = Array.from(tokens[i]);
      if (bigram(tokens[i - 1]) && bigram(tokens[i]) && before[1] === token[0]) out += token[1];
      else out += SEPARATOR + tokens[i];
    }
    return out;
  }

  /* search/plan.py: a doc-level key, or the triples that cover the clause (offset, key) */
  function plan(clause) {
    var t = clause.tokens;
    if (clause.char) return { key: CHAR + t[0] };
    if (t.length === 1) return { key: WORD + t[0] };
    if (t.length === 2) return { key: PAIR + keyText(t) };
    var offsets = [];
    for (var o = 0; o + 3 <= t.length; o += 3) offsets.push(o);
    if (offsets[offsets.length - 1] !== t.length - 3) offsets.push(t.length - 3);
    return { pieces: offsets.map(function (o) { return [o, TRIPLE + keyText(t.slice(o, o + 3))]; }) };
  }

  /* --- the index's files ------------------------------------------------------------ */

  var root = "";
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

  /* Varints and bytes read one after another from a file. */
  function reader(bytes, at) {
    var r = { at: at || 0, data: bytes };
    r.varint = function () {
      var value = 0, scale = 1, byte;
      do { byte = bytes[r.at++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte >= 0x80);
      return value;
    };
    r.text = function (size) { r.at += size; return decoder.decode(bytes.subarray(r.at - size, r.at)); };
    return r;
  }

  /* A bucket: its directory, key -> {documents, size, external, at, place}. */
  function parseBucket(buffer) {
    var bytes = new Uint8Array(buffer), r = reader(bytes, 1), read = r.varint, keys = new Map(), heads = [];
    for (var n = read(), k = 0; k < n; k++) {
      var key = r.text(read());
      heads.push([key, read(), read(), read(), k]);
    }
    heads.forEach(function (h) {
      var entry = { documents: h[1], size: h[2], external: h[3], place: h[4], at: -1 };
      if (!h[3]) { entry.at = r.at; r.at += h[2]; }
      keys.set(h[0], entry);
    });
    return { bytes: bytes, keys: keys };
  }

  function bucketOf(ix, key) { return fnv1a(key) % ix.meta.buckets; }
  function hex(n) { return n.toString(16); }

  /* The record of a key: {key, bucket, place, documents, bytes}, or null when the archive
     does not have the key. */
  async function record(ix, key) {
    var b = bucketOf(ix, key);
    var bucket = await indexFile(ix, "b/" + hex(b) + ".bin", parseBucket);
    var entry = bucket.keys.get(key);
    if (!entry) return null;
    var bytes = entry.external
      ? new Uint8Array(await indexFile(ix, "x/" + hex(b) + "-" + (entry.external - 1) + ".bin",
                                       function (buffer) { return buffer; })).subarray(1)
      : bucket.bytes.subarray(entry.at, entry.at + entry.size);
    return { key: key, bucket: b, place: entry.place, documents: entry.documents, bytes: bytes };
  }

  /* A doc-level record: numbers, weight codes, title flags (arrays by document). */
  function decodeDoc(rec) {
    var n = rec.documents, r = reader(rec.bytes), numbers = new Int32Array(n), codes = new Uint8Array(n);
    var title = new Uint8Array(n), number = 0;
    for (var i = 0; i < n; i++) {
      var v = r.varint();
      number += Math.floor(v / 16);
      numbers[i] = number;
      codes[i] = v % 16;
    }
    for (var j = 0; j < n; j++) title[j] = (rec.bytes[r.at + (j >> 3)] >> (j & 7)) & 1;
    return { numbers: numbers, codes: codes, title: title, rec: rec };
  }

  /* A positional record: numbers, length classes, and each document's occurrences
     (line, offset, region) from first[d] to first[d + 1]; a line is named by
     line << 3 | region, as the record has it. */
  function decodePos(rec) {
    var n = rec.documents, r = reader(rec.bytes), numbers = new Int32Array(n), norms = new Uint8Array(n);
    var first = new Int32Array(n + 1), lines = [], offsets = [], regions = [], number = 0;
    for (var i = 0; i < n; i++) {
      var v = r.varint();
      number += Math.floor(v / 4);
      numbers[i] = number;
      norms[i] = v & 2 ? r.varint() : 0;
      var count = v & 1 ? r.varint() + 2 : 1, place = -1, offset = 0;
      first[i] = lines.length;
      for (var k = 0; k < count; k++) {
        var head = r.varint(), step = r.varint();
        offset = head === place ? offset + step : step;
        place = head;
        lines.push(head); offsets.push(offset); regions.push(head & 7);
      }
    }
    first[n] = lines.length;
    return { numbers: numbers, norms: norms, first: first, lines: lines, offsets: offsets, regions: regions };
  }

  /* search/ranking.py */
  function weightCode(tf, q, R) {
    if (tf <= 0) return 0;
    var w = tf * (R.k1 + 1) / (tf + R.k1 * (1 - R.b + R.b * R.r[q]));
    return Math.max(1, Math.min(R.codes, Math.floor(w * R.codes / (R.k1 + 1) + 0.5)));
  }
  var LN2 = 0.6931471805599453;
  function ln(x) {
    var e = 0;
    while (x >= 2) { x /= 2; e += 1; }
    while (x < 1) { x *= 2; e -= 1; }
    var z = (x - 1) / (x + 1), z2 = z * z, total = 0, term = z, k = 1;
    for (var i = 0; i < 20; i++) { total += term / k; term *= z2; k += 2; }
    return 2 * total + e * LN2;
  }
  function idf(reports, df) { return ln(1 + (reports - df + 0.5) / (df + 0.5)); }

  /* A clause's matches: {numbers, codes, title, parts} by ascending number (parts: a
     function giving the part masks, fetched only when a part filter asks). */
  async function matchClause(ix, clause) {
    var p = plan(clause);
    if (p.key) {
      var rec = await record(ix, p.key);
      if (!rec) return empty();
      var d = decodeDoc(rec);
      return { numbers: d.numbers, codes: d.codes, title: d.title,
               parts: function () { return partMasks(ix, rec); } };
    }
    var recs = await Promise.all(p.pieces.map(function (piece) { return record(ix, piece[1]); }));
    if (recs.some(function (r) { return !r; })) return empty();
    // the rarest piece first: its documents are the candidates
    var pieces = recs.map(function (r, i) { return { offset: p.pieces[i][0], pos: decodePos(r) }; });
    var lead = pieces[0], others = pieces.slice(1);
    var at = others.map(function () { return 0; });
    var numbers = [], codes = [], title = [], masks = [];
    for (var d = 0; d < lead.pos.numbers.length; d++) {
      var number = lead.pos.numbers[d], found = [], ok = true;
      for (var k = 0; k < others.length && ok; k++) {
        var o = others[k].pos;
        while (at[k] < o.numbers.length && o.numbers[at[k]] < number) at[k]++;
        if (at[k] === o.numbers.length || o.numbers[at[k]] !== number) { ok = false; break; }
        var set = new Set();
        for (var j = o.first[at[k]]; j < o.first[at[k] + 1]; j++) set.add(o.lines[j] * 2097152 + o.offsets[j]);
        found.push(set);
      }
      if (!ok) continue;
      var tf = 0, inTitle = 0, mask = 0, any = false;
      for (var m = lead.pos.first[d]; m < lead.pos.first[d + 1]; m++) {
        var line = lead.pos.lines[m], offset = lead.pos.offsets[m];
        var all = found.every(function (set, i) { return set.has(line * 2097152 + offset + others[i].offset); });
        if (!all) continue;
        any = true;
        var region = lead.pos.regions[m];
        if (region === TITLE) inTitle = 1; else tf++;
        if (region >= 1 && region <= PARTS) mask |= 1 << (region - 1);
      }
      if (!any) continue;
      numbers.push(number);
      codes.push(weightCode(tf, lead.pos.norms[d], ix.meta.ranking));
      title.push(inTitle);
      masks.push(mask);
    }
    return { numbers: Int32Array.from(numbers), codes: Uint8Array.from(codes), title: Uint8Array.from(title),
             parts: function () { return Promise.resolve(Uint8Array.from(masks)); } };
  }
  function empty() {
    return { numbers: new Int32Array(0), codes: new Uint8Array(0), title: new Uint8Array(0),
             parts: function () { return Promise.resolve(new Uint8Array(0)); } };
  }

  /* The part masks of a doc-level record's documents, from p/<bucket >> shift>.bin. */
  async function partMasks(ix, rec) {
    var shift = ix.meta.parts_shift;
    var masks = await indexFile(ix, "p/" + hex(rec.bucket >> shift) + ".bin", parseParts);
    return masks.get((rec.bucket & ((1 << shift) - 1)) + ":" + rec.place) || new Uint8Array(rec.documents);
  }
  function parseParts(buffer) {
    var bytes = new Uint8Array(buffer), r = reader(bytes, 1), heads = [], out = new Map();
    for (var n = r.varint(), k = 0; k < n; k++) heads.push([r.varint(), r.varint(), r.varint()]);
    heads.forEach(function (h) {
      var masks = new Uint8Array(h[2]);
      for (var i = 0; i < h[2] * 5; i++) if ((bytes[r.at + (i >> 3)] >> (i & 7)) & 1) masks[Math.floor(i / 5)] |= 1 << (i % 5);
      out.set(h[0] + ":" + h[1], masks);
      r.at += Math.ceil(h[2] * 5 / 8);
    });
    return out;
  }

  /* regions.bin: number -> region name */
  function parseRegions(buffer) {
    var bytes = new Uint8Array(buffer), r = reader(bytes), names = [], out = new Map(), number = 0;
    for (var n = r.varint(), k = 0; k < n; k++) names.push(r.text(r.varint()));
    for (var m = r.varint(), j = 0; j < m; j++) { number += r.varint(); out.set(number, names[r.varint()]); }
    return out;
  }
  function regionsOf(ix) {
    if (!ix.meta.regions) return Promise.resolve(new Map());
    return indexFile(ix, "regions.bin", parseRegions);
  }

  /* year and level of a number (static_format.numbering) */
  function groupOf(ix, number) {
    var group = Math.floor(number / Math.pow(2, ix.meta.slot_bits)), slots = ix.meta.levels.length;
    var rank = Math.floor(group / slots);
    return { group: group, year: rank ? String(ix.meta.years[rank - 1]) : "", level: ix.meta.levels[group % slots] };
  }
  /* year and level of every group, by group, made once per index. */
  function groupTable(ix) {
    if (!ix.groups) {
      var slots = ix.meta.levels.length, size = (ix.meta.years.length + 1) * slots;
      ix.groups = { year: [], level: [], scale: Math.pow(2, ix.meta.slot_bits) };
      for (var g = 0; g < size; g++) {
        var info = groupOf(ix, g * ix.groups.scale);
        ix.groups.year.push(info.year);
        ix.groups.level.push(info.level);
      }
    }
    return ix.groups;
  }

  /* Every matching report (see `ranked`) and the facet counts; in typed arrays, since a
     common word matches most of the archive. */
  async function searchAll(query, filters, part) {
    var parsed = parseQuery(query), clauses = parsed.clauses;
    var result = { clauses: clauses, dropped: parsed.dropped,
                   results: ranked(new Int32Array(0), new Uint8Array(0), new Float64Array(0)),
                   facets: { year: new Map(), level: new Map() } };
    if (!clauses.length) return result;
    var ix = await loadIndex(), groups = groupTable(ix);
    var matches = await Promise.all(clauses.map(function (c) { return matchClause(ix, c); }));
    var regions = filters.region ? await regionsOf(ix) : null;
    var masks = part ? await Promise.all(matches.map(function (m) { return m.parts(); })) : null;
    // documents matching every clause: walk the smallest list, look the others up
    var n = matches.length, order = matches.map(function (_, i) { return i; })
      .sort(function (a, b) { return matches[a].numbers.length - matches[b].numbers.length; });
    var lead = matches[order[0]].numbers, at = new Int32Array(n), where = new Int32Array(n);
    var numbers = new Int32Array(lead.length), titles = new Uint8Array(lead.length);
    var scores = new Float64Array(lead.length), count = 0;
    var idfs = matches.map(function (m) { return idf(ix.meta.reports, m.numbers.length); });
    var codes = ix.meta.ranking.codes, bit = part ? 1 << (part - 1) : 0;
    for (var d = 0; d < lead.length; d++) {
      var number = lead[d], ok = true;
      for (var c = 0; c < n && ok; c++) {
        var list = matches[c].numbers, k = at[c];
        while (k < list.length && list[k] < number) k++;
        at[c] = k;
        if (k === list.length || list[k] !== number || (bit && !(masks[c][k] & bit))) ok = false;
        where[c] = k;
      }
      if (!ok) continue;
      var group = Math.floor(number / groups.scale);
      if (filters.year && groups.year[group] !== filters.year) continue;
      if (filters.level && groups.level[group] !== filters.level) continue;
      if (regions && regions.get(number) !== filters.region) continue;
      var inTitle = 0, score = 0;
      for (var m = 0; m < n; m++) {
        inTitle += matches[m].title[where[m]];
        score += idfs[m] * matches[m].codes[where[m]] / codes;
      }
      numbers[count] = number;
      titles[count] = inTitle;
      scores[count] = score;
      count++;
    }
    result.results = ranked(numbers.subarray(0, count), titles.subarray(0, count), scores.subarray(0, count));
    result.facets = facets(groups, result.results.numbers);
    result.ix = ix;
    return result;
  }

  /* The results, unordered, with top(k): the indexes of the k best, best first (more
     clauses in the title, then the score, then the larger number). A page of results
     needs only the best few of tens of thousands, so they are picked with a heap and
     only those sorted; top(length) sorts them all. */
  function ranked(numbers, titles, scores) {
    function better(i, j) {  // > 0 when result i goes before result j
      return titles[i] - titles[j] || scores[i] - scores[j] || numbers[i] - numbers[j];
    }
    function top(k) {
      k = Math.min(k, numbers.length);
      var heap = new Int32Array(k), size = 0;  // the k best so far, the worst at the root
      function down(at) {
        for (;;) {
          var worst = at, l = 2 * at + 1, r = l + 1;
          if (l < size && better(heap[worst], heap[l]) > 0) worst = l;
          if (r < size && better(heap[worst], heap[r]) > 0) worst = r;
          if (worst === at) return;
          var t = heap[at]; heap[at] = heap[worst]; heap[worst] = t;
          at = worst;
        }
      }
      for (var i = 0; i < numbers.length && k; i++) {
        if (size < k) {
          var at = size++;
          heap[at] = i;
          while (at && better(heap[(at - 1) >> 1], heap[at]) > 0) {
            var up = (at - 1) >> 1, t = heap[at]; heap[at] = heap[up]; heap[up] = t;
            at = up;
          }
        } else if (better(i, heap[0]) > 0) {
          heap[0] = i;
          down(0);
        }
      }
      return heap.sort(function (x, y) { return better(y, x); });
    }
    function best(k) {  // the numbers of the k best, best first
      return Array.from(top(k), function (i) { return numbers[i]; });
    }
    return { numbers: numbers, titles: titles, scores: scores, length: numbers.length, top: top, best: best };
  }

  function facets(groups, numbers) {
    var byGroup = new Map(), year = new Map(), level = new Map();
    for (var i = 0; i < numbers.length; i++) {
      var g = Math.floor(numbers[i] / groups.scale);
      byGroup.set(g, (byGroup.get(g) || 0) + 1);
    }
    byGroup.forEach(function (n, g) {
      if (groups.year[g]) year.set(groups.year[g], (year.get(groups.year[g]) || 0) + n);
      if (groups.level[g]) level.set(groups.level[g], (level.get(groups.level[g]) || 0) + n);
    });
    return { year: year, level: level };
  }

  /* The ids of results (what links and report.json need), from the ids files. */
  async function idsOf(ix, numbers) {
    return Promise.all(Array.from(numbers, function (number) {
      return indexFile(ix, "i/" + hex(number % ix.meta.ids) + ".json")
        .then(function (ids) { return ids[String(number)]; });
    }));
  }

  /* One collator for every sort of names: String.localeCompare with a locale makes a
     collator per call, and a region facet sorts thousands of names. */
  var zhCompare = new Intl.Collator("zh-CN").compare;

  /* --- excerpts: cut from the report's text (reports/<id>/report.json) --------------- */

  var EXCERPT_BEFORE = 24, EXCERPT_CHARS = 100, RUN_BACK = 8;

  /* normalize() of one character, as code points: a report has a few thousand distinct
     characters, and excerpts normalise ten reports character by character. */
  var normalChars = new Map();
  function normalChar(ch) {
    var n = normalChars.get(ch);
    if (n === undefined) normalChars.set(ch, n = Array.from(normalize(ch)));
    return n;
  }

  /* The text normalised character by character and with the spaces between Han
     characters left out (join_han), and where each character came from. */
  function normalizeMapped(text) {
    var chars = Array.from(text), out = [], origin = [], offset = 0, starts = [];
    chars.forEach(function (ch) { starts.push(offset); offset += ch.length; });
    starts.push(offset);
    for (var i = 0; i < chars.length; i++) {
      if (SPACE.test(chars[i])) {
        var j = i;
        while (j < chars.length && SPACE.test(chars[j])) j++;
        var before = out.length ? out[out.length - 1] : "", after = j < chars.length ? normalChar(chars[j]) : [];
        if (before && after.length && HAN.test(before) && HAN.test(after[0])) { i = j - 1; continue; }
      }
      var n = normalChar(chars[i]);
      for (var k = 0; k < n.length; k++) { out.push(n[k]); origin.push(starts[i]); }
    }
    origin.push(offset);
    return { chars: out, text: out.join(""), origin: origin, ends: starts };
  }

  /* Where a clause's text occurs (as indexes into the mapped characters): a digit or
     Latin run at its edge matches whole runs only. */
  function occurrences(mapped, term) {
    var needle = Array.from(term), found = [], chars = mapped.chars;
    var first = kind(needle[0]), last = kind(needle[needle.length - 1]);
    for (var at = 0; at + needle.length <= chars.length; at++) {
      var k = 0;
      while (k < needle.length && chars[at + k] === needle[k]) k++;
      if (k < needle.length) continue;
      var before = at > 0 ? kind(chars[at - 1]) : " ";
      var after = at + needle.length < chars.length ? kind(chars[at + needle.length]) : " ";
      if ((first === "d" || first === "a") && before === first) continue;
      if ((last === "d" || last === "a") && after === last) continue;
      found.push([at, at + needle.length]);
    }
    return found;
  }

  var SENTENCE_END = /[。！？；!?;\n]/;

  /* Pieces of `text` ({text, marked}) around its first match, every clause's matches
     marked; from `whole` the whole text. The excerpt starts after the end of a sentence
     when one is near before the match, never inside a digit or Latin run. */
  function excerpt(text, clauses, whole) {
    var mapped = normalizeMapped(text), marks = [];
    clauses.forEach(function (c) { marks.push.apply(marks, occurrences(mapped, c.text)); });
    marks.sort(function (x, y) { return x[0] - y[0] || y[1] - x[1]; });
    var n = mapped.chars.length, start = 0, end = n;
    if (!whole) {
      if (marks.length) {
        var m = marks[0][0];
        start = Math.max(0, m - EXCERPT_BEFORE);
        for (var i = m - 1; i >= start; i--) if (SENTENCE_END.test(mapped.chars[i])) { start = i + 1; break; }
        var k0 = kind(mapped.chars[start]);
        if (start > 0 && start < m && (k0 === "d" || k0 === "a")) {
          // inside a number or word: from its start when near, else after its end
          var runStart = start, runEnd = start;
          while (runStart > 0 && kind(mapped.chars[runStart - 1]) === k0) runStart--;
          while (runEnd < m && kind(mapped.chars[runEnd]) === k0) runEnd++;
          start = start - runStart <= RUN_BACK ? runStart : runEnd;
        }
        while (start < m && /\s/.test(mapped.chars[start])) start++;
      }
      end = Math.min(n, start + EXCERPT_CHARS);
    }
    var pieces = [], at = start;
    function emit(from, to, marked) {
      if (to <= from) return;
      var piece = text.slice(mapped.origin[from], to < n ? mapped.origin[to] : text.length).replace(/\s+/g, " ");
      var last = pieces[pieces.length - 1];
      if (last && last.marked === marked) last.text += piece; else pieces.push({ text: piece, marked: marked });
    }
    marks.forEach(function (mk) {
      if (mk[1] <= at || mk[0] >= end) return;
      emit(at, Math.max(at, mk[0]), false);
      emit(Math.max(at, mk[0]), Math.min(mk[1], end), true);
      at = Math.min(mk[1], end);
    });
    emit(at, end, false);
    if (start > 0) pieces.unshift({ text: "…", marked: false });
    if (end < n) pieces.push({ text: "…", marked: false });
    return { pieces: pieces, found: marks.length > 0 };
  }

  /* The text in the original's script where it can be had: a traditional report's lines
     as they were before the cleaner converted them (its "t2s" changes), when the line is
     unchanged since and of the same length. {text, original: whether any line is}. */
  function originalScript(data) {
    var text = data.text || "";
    if (data.script !== "traditional") return { text: text, original: false };
    var before = new Map();
    (data.changes || []).forEach(function (c) {
      if (c.kind === "t2s" && Array.from(c.before).length === Array.from(c.after).length) before.set(c.after, c.before);
    });
    var any = false;
    var lines = text.split("\n").map(function (line) {
      var was = before.get(line);
      if (was === undefined) return line;
      any = true;
      return was;
    });
    return { text: lines.join("\n"), original: any };
  }

  function reportData(id) {
    return fetchData(root + "reports/" + encodeURIComponent(id) + "/report.json", "json").catch(function () {
      return { title: id, text: "" };
    });
  }

  /* --- the page -------------------------------------------------------------------------- */

  function el(name, attrs, text) {
    var node = document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }
  function fill(node, pieces) {
    pieces.forEach(function (p) { node.appendChild(p.marked ? el("mark", {}, p.text) : document.createTextNode(p.text)); });
    return node;
  }

  var form = document.getElementById("search-form");
  var current = { results: null, clauses: [], shown: 0, token: 0, ix: null };

  function setUp() {
    root = form.getAttribute("data-root") || "";
    var input = form.querySelector("input[name=q]");
    var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));
    var partSelect = form.querySelector("select[name=part]");
    var status = document.getElementById("search-status");
    var notice = document.getElementById("search-notice");
    var list = document.getElementById("search-results");
    var more = document.getElementById("search-more");
    var facetBox = document.getElementById("search-facets");

    function filterValues() {
      var out = {};
      selects.forEach(function (s) { if (s.value) out[s.getAttribute("data-filter")] = s.value; });
      return out;
    }

    function optionsFor(select, counts, wanted) {
      var name = select.getAttribute("data-filter");
      select.length = 1;
      var values = Array.from(counts.keys()).sort(function (a, b) {
        return name === "year" ? zhCompare(b, a) : zhCompare(a, b);
      });
      if (wanted && !counts.has(wanted)) values.unshift(wanted);
      var options = document.createDocumentFragment();  // one insertion: a region list has thousands
      values.forEach(function (v) {
        var option = el("option", { value: v }, counts.has(v) ? v + "（" + counts.get(v) + "）" : v);
        if (v === wanted) option.selected = true;
        options.appendChild(option);
      });
      select.appendChild(options);
    }

    async function fillFilters() {
      var ix = await loadIndex(), year = new Map(), level = new Map();
      Object.keys(ix.meta.groups).forEach(function (g) {
        var info = groupOf(ix, Number(g) * Math.pow(2, ix.meta.slot_bits)), n = ix.meta.groups[g];
        if (info.year) year.set(info.year, (year.get(info.year) || 0) + n);
        if (info.level) level.set(info.level, (level.get(info.level) || 0) + n);
      });
      selects.forEach(function (select) {
        var name = select.getAttribute("data-filter"), wanted = select.getAttribute("data-value") || "";
        if (name === "year") optionsFor(select, year, wanted);
        else if (name === "level") optionsFor(select, level, wanted);
        else if (name === "region") {
          select.disabled = !ix.meta.regions;
          if (wanted) optionsFor(select, new Map(), wanted);
        }
      });
      if (partSelect) partSelect.value = partSelect.getAttribute("data-value") || "";
    }

    /* The region filter's options: thousands of them cost the browser more than the
       search, so they are made when the list is first used, with the chosen one now. */
    var pendingRegions = null;  // the listener that fills them for the latest results
    function regionOptionsLater(select, counts, wanted) {
      if (pendingRegions) pendingRegions();
      var chosen = new Map();
      if (wanted && counts.has(wanted)) chosen.set(wanted, counts.get(wanted));
      optionsFor(select, chosen, wanted);
      function forget() {
        select.removeEventListener("focus", fill);
        select.removeEventListener("pointerdown", fill);
        pendingRegions = null;
      }
      function fill() {
        forget();
        optionsFor(select, counts, select.value);
      }
      select.addEventListener("focus", fill);
      select.addEventListener("pointerdown", fill);
      pendingRegions = forget;
    }

    /* A facet's counts, the twelve largest, as links that set its filter. */
    function facetGroup(label, name, counts, order) {
      if (!counts.size) return;
      var values = Array.from(counts.entries()).sort(order || function (a, b) { return b[1] - a[1] || zhCompare(a[0], b[0]); });
      facetBox.appendChild(el("h3", {}, label));
      var ul = el("ul", { "data-facet": name });
      values.slice(0, 12).forEach(function (kv) {
        var li = el("li"), a = el("a", { href: "#", "data-value": kv[0] }, kv[0] + "（" + kv[1] + "）");
        a.addEventListener("click", function (event) {
          event.preventDefault();
          var select = form.querySelector("select[data-filter=" + name + "]");
          if (!select) return;
          if (!Array.from(select.options).some(function (o) { return o.value === kv[0]; })) select.appendChild(el("option", { value: kv[0] }, kv[0]));
          select.value = kv[0];
          run(true);
        });
        li.appendChild(a);
        ul.appendChild(li);
      });
      facetBox.appendChild(ul);
    }

    /* Facet counts of the results: year and level from the numbers, regions on demand. */
    function showFacets(found, token) {
      facetBox.textContent = "";
      countRegions = null;
      if (!found.results.length) { facetBox.hidden = true; return; }
      facetBox.hidden = false;
      facetBox.appendChild(el("h2", {}, "筛选"));
      facetGroup("年度", "year", found.facets.year, function (a, b) { return zhCompare(b[0], a[0]); });
      facetGroup("层级", "level", found.facets.level);
      if (found.ix.meta.regions) regionFacet(found, token);
    }

    /* Counts by region need regions.bin, a name for every report (at 100,000 reports
       the largest file a query could want), so it is fetched when the counts are asked
       for or the region list is opened; once here, every later query shows them. */
    var regionSelect = form.querySelector("select[data-filter=region]");
    var countRegions = null;  // fetches and shows the counts of the latest results
    function regionFacet(found, token) {
      var heading = el("h3", {}, "所属地区");
      var button = el("button", { type: "button", "class": "search-facet-load" }, "统计各地区篇数");
      facetBox.appendChild(heading);
      facetBox.appendChild(button);
      function show() {
        countRegions = null;
        button.disabled = true;
        regionsOf(found.ix).then(function (regions) {
          if (token !== current.token) return;
          var counts = new Map();
          found.results.numbers.forEach(function (number) {
            var name = regions.get(number);
            if (name) counts.set(name, (counts.get(name) || 0) + 1);
          });
          heading.remove();
          button.remove();
          facetGroup("所属地区", "region", counts);
          if (!regionSelect || !counts.size) return;
          var wanted = regionSelect.value || regionSelect.getAttribute("data-value") || "";
          if (document.activeElement === regionSelect) optionsFor(regionSelect, counts, wanted);
          else regionOptionsLater(regionSelect, counts, wanted);
        }, function () { button.disabled = false; countRegions = show; });
      }
      button.addEventListener("click", show);
      countRegions = show;
      if (found.ix.files.has("regions.bin")) show();
    }
    if (regionSelect) {
      ["focus", "pointerdown"].forEach(function (type) {
        regionSelect.addEventListener(type, function () { if (countRegions) countRegions(); });
      });
    }

    async function renderMore() {
      var token = current.token;
      var slice = current.results.best(current.shown + PAGE_SIZE).slice(current.shown);
      var ids = await idsOf(current.ix, slice);
      var data = await Promise.all(ids.map(reportData));
      if (token !== current.token) return;
      var marks = current.clauses.map(function (c) { return c.text; }).join(" ");
      data.forEach(function (d, i) {
        var id = ids[i];
        var item = el("li", { "class": "search-result", "data-id": id });
        var heading = el("h2", { "class": "search-result-title" });
        var href = root + "reports/" + encodeURIComponent(id) + "/?hl=" + encodeURIComponent(marks);
        heading.appendChild(fill(el("a", { href: href }), excerpt(d.title || id, current.clauses, true).pieces));
        item.appendChild(heading);
        var facts = [d.place, d.year ? d.year + "年" : "", d.level].filter(Boolean).join(" · ");
        if (facts) item.appendChild(el("p", { "class": "search-result-meta" }, facts));
        var source = originalScript(d), cut = excerpt(source.text, current.clauses, false);
        var snippet = fill(el("p", { "class": "search-result-snippet" }), cut.pieces);
        item.appendChild(snippet);
        var notes = [];
        if (!cut.found) notes.push("仅标题含检索词");
        if (d.script === "traditional") notes.push(source.original ? "摘录为原文繁体" : "摘录为简体（原文为繁体）");
        if (notes.length) item.appendChild(el("p", { "class": "search-result-meta" }, notes.join("；")));
        list.appendChild(item);
      });
      current.shown += slice.length;
      more.hidden = current.shown >= current.results.length;
    }

    async function run(pushState) {
      var query = input.value;
      var filters = filterValues();
      var part = partSelect && partSelect.value ? Number(partSelect.value) : 0;
      var token = ++current.token;
      list.textContent = "";
      notice.textContent = "";
      more.hidden = true;
      if (pushState) {
        var params = new URLSearchParams();
        if (query) params.set("q", query);
        Object.keys(filters).forEach(function (k) { params.set(k, filters[k]); });
        if (part) params.set("part", String(part));
        history.replaceState(null, "", "?" + params.toString());
      }
      var parsed = parseQuery(query);
      if (parsed.dropped.length) {
        notice.textContent = "检索词最多 " + MAP.maxTerms + " 个，以下词未参与检索：" + parsed.dropped.join("、");
      }
      if (!parsed.clauses.length) {
        status.textContent = query.trim() ? "请输入可检索的文字（汉字、数字或字母）。" : "";
        facetBox.hidden = true;
        return;
      }
      status.textContent = "正在检索…";
      var found;
      try {
        found = await searchAll(query, filters, part);
      } catch (err) {
        if (token === current.token) status.textContent = "检索暂不可用。";
        return;
      }
      if (token !== current.token) return;
      current.results = found.results;
      current.clauses = found.clauses;
      current.ix = found.ix;
      current.shown = 0;
      status.textContent = found.results.length ? "共找到 " + found.results.length + " 篇报告。"
        : "没有找到包含“" + query.trim() + "”的报告。";
      showFacets(found, token);
      await renderMore();
      document.body.setAttribute("data-search-done", String(token));
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); run(true); });
    more.addEventListener("click", function () { renderMore(); });

    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    selects.forEach(function (s) { s.setAttribute("data-value", params.get(s.getAttribute("data-filter")) || ""); });
    if (partSelect) partSelect.setAttribute("data-value", params.get("part") || "");
    fillFilters().then(function () { if (input.value) run(false); }, function () {
      status.textContent = "检索索引未能加载。";
    });
  }

  if (form) setUp();

  // For tests and other scripts: every matching report id, best first; an excerpt.
  window.siteSearch = {
    parseQuery: function (q) { return parseQuery(q).clauses; },
    parse: parseQuery,
    plan: plan,
    ids: async function (query, filters, part) {
      var found = await searchAll(query, filters || {}, part || 0);
      return found.results.length ? idsOf(found.ix, found.results.best(found.results.length)) : [];
    },
    search: async function (query, filters, part) {
      var found = await searchAll(query, filters || {}, part || 0);
      var r = found.results, best = Array.from(r.top(r.length));
      var ids = r.length ? await idsOf(found.ix, r.best(r.length)) : [];
      return { ids: ids, dropped: found.dropped, scores: best.map(function (i) { return [r.titles[i], r.scores[i]]; }),
               facets: { year: Object.fromEntries(found.facets.year || []), level: Object.fromEntries(found.facets.level || []) } };
    },
    excerpt: function (text, query, whole) { return excerpt(text, parseQuery(query).clauses, !!whole).pieces; },
    originalScript: originalScript,
    ln: ln,
    weightCode: function (tf, q) { return loadIndex().then(function (ix) { return weightCode(tf, q, ix.meta.ranking); }); }
  };
})();
