// The catalogue's filters and orders in the browser (see site_builder/site/catalogue.py).
// A choice that has a pre-rendered page goes there; any other is a URL of catalogue/ with
// its choices in the query (?year=2024&province=430000&sort=region&page=2), drawn here from
// the data files: the manifest and the shards (one per province and year) the choice needs.
// Without JavaScript the pre-rendered pages and their links work as they are.
(function () {
  "use strict";
  var FILTERS = ["year", "level", "province", "city", "county", "flag"];
  var F = {id: 0, title: 1, place: 2, year: 3, level: 4, published: 5, publisher: 6, flags: 7, city: 8, county: 9,
           derived: 13};
  var RANK = {date: 10, year: 11, region: 12};
  var box = document.getElementById("catalogue");
  if (!box || !window.fetch) { return; }
  var root = box.getAttribute("data-root");
  var form = document.getElementById("catalogue-filters");
  var status = document.getElementById("catalogue-status");
  var results = document.getElementById("catalogue-results");
  var manifest;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function option(select, value, label, chosen) {
    var o = el("option", label);
    o.value = value;
    if (value === chosen) { o.selected = true; }
    select.appendChild(o);
  }
  function field(name) { return form.elements[name]; }

  // The choices of this page: its query, else the pre-rendered view it is.
  function choices() {
    var state = {sort: "date"}, query = new URLSearchParams(location.search), view = box.getAttribute("data-view");
    FILTERS.concat(["sort", "page"]).forEach(function (name) { if (query.get(name)) { state[name] = query.get(name); } });
    var m = /^sort-(year|region)$/.exec(view);
    if (m) { state.sort = m[1]; }
    m = /^(year|level|province|flag)-(.+)$/.exec(view);
    if (m) { state[m[1]] = m[2]; }
    return state;
  }

  function fill(state) {
    manifest.years.forEach(function (y) { option(field("year"), String(y), y + "年", state.year); });
    if (manifest.undated) { option(field("year"), "undated", "年度不详", state.year); }
    manifest.levels.forEach(function (l) { option(field("level"), l[0], l[1], state.level); });
    manifest.provinces.forEach(function (p) { option(field("province"), p[0], p[1], state.province); });
    manifest.flags.forEach(function (f) { option(field("flag"), f[0], f[1], state.flag); });
    field("sort").value = state.sort;
    places(state);
  }
  // The cities and counties of the chosen province (and city).
  function places(state) {
    ["city", "county"].forEach(function (name) {
      var select = field(name);
      while (select.options.length > 1) { select.remove(1); }
    });
    (manifest.divisions[state.province] || []).forEach(function (d) {
      if (d[2] === "city") { option(field("city"), d[0], d[1], state.city); }
      if (d[2] === "county" && (!state.city || d[3] === state.city)) { option(field("county"), d[0], d[1], state.county); }
    });
    field("city").disabled = field("city").options.length < 2;
    field("county").disabled = field("county").options.length < 2;
  }

  function read() {
    var state = {};
    FILTERS.concat(["sort"]).forEach(function (name) {
      var value = field(name).disabled ? "" : field(name).value;
      if (value) { state[name] = value; }
    });
    return state;
  }
  // The page of a choice: a pre-rendered view when one shows it, else catalogue/?...
  function target(state) {
    var named = FILTERS.filter(function (name) { return state[name]; });
    var sort = state.sort || "date";
    if (!named.length) { return root + "catalogue/" + (sort === "date" ? "" : "sort-" + sort + "/"); }
    if (named.length === 1 && sort === "date" && named[0] !== "city" && named[0] !== "county") {
      var view = named[0] + "-" + state[named[0]];
      if (manifest.views.indexOf(view) >= 0) { return root + "catalogue/" + view + "/"; }
    }
    var query = new URLSearchParams();
    named.forEach(function (name) { query.set(name, state[name]); });
    if (sort !== "date") { query.set("sort", sort); }
    if (state.page && state.page !== "1") { query.set("page", state.page); }
    return root + "catalogue/?" + query.toString();
  }

  function shardsFor(state) {
    var provinces = state.province ? [state.province] : manifest.provinces.map(function (p) { return p[0]; });
    var years = state.year ? [state.year] : manifest.years.map(String).concat(manifest.undated ? ["undated"] : []);
    var names = [];
    provinces.forEach(function (p) {
      years.forEach(function (y) { if (manifest.shards[p + "-" + y]) { names.push(p + "-" + y); } });
    });
    return names;
  }

  function draw(state, rows) {
    var bit = 0;
    manifest.flags.forEach(function (f) { if (f[0] === state.flag) { bit = f[2]; } });
    var found = rows.filter(function (r) {
      return (!state.level || r[F.level] === state.level) && (!bit || (r[F.flags] & bit)) &&
        (!state.city || r[F.city] === state.city) && (!state.county || r[F.county] === state.county);
    });
    var rank = RANK[state.sort] || RANK.date;
    found.sort(function (a, b) { return a[rank] - b[rank]; });
    var size = manifest.per_page, pages = Math.max(1, Math.ceil(found.length / size));
    var page = Math.min(pages, Math.max(1, parseInt(state.page || "1", 10) || 1));
    var start = (page - 1) * size;
    results.textContent = "";
    var named = FILTERS.filter(function (name) { return state[name] && field(name).selectedIndex > 0; }).map(
      function (name) { return field(name).options[field(name).selectedIndex].text; });
    var sortName = field("sort").options[field("sort").selectedIndex].text;
    status.textContent = named.concat(["按" + sortName + "排列"]).join("，") + "：" +
      (found.length ? "共 " + found.length + " 条。" : "没有符合条件的报告。");
    if (!found.length) { return; }
    var scroll = el("div", null, "table-scroll");
    scroll.setAttribute("role", "region");
    scroll.setAttribute("aria-label", "报告列表（可左右滚动）");
    scroll.tabIndex = 0;
    var table = el("table", null, "list reports"), head = el("tr");
    [["序号", "num"], ["标题"], ["地区"], ["年度", "num"], ["发布机构", "pub"], ["发布日期", "num"]].forEach(function (h) {
      var th = el("th", h[0], h[1]);
      th.scope = "col";
      head.appendChild(th);
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    found.slice(start, start + size).forEach(function (r, k) {
      var tr = el("tr"), title = el("td"), link = el("a", r[F.title]);
      tr.appendChild(el("td", start + k + 1, "num"));
      link.href = root + "reports/" + r[F.id] + "/";
      title.appendChild(link);
      if (r[F.derived]) { title.appendChild(document.createTextNode(" ")); title.appendChild(el("span", "标题系生成", "tag")); }
      tr.appendChild(title);
      tr.appendChild(el("td", r[F.place]));
      tr.appendChild(el("td", r[F.year] || "—", "num"));
      tr.appendChild(el("td", r[F.publisher] || "—", "pub"));
      tr.appendChild(el("td", r[F.published] || "—", "num"));
      body.appendChild(tr);
    });
    scroll.appendChild(table);
    results.appendChild(scroll);
    results.appendChild(pager(state, page, pages, found.length));
  }

  function pager(state, page, pages, total) {
    var nav = el("nav", null, "pager"), list = el("ul");
    nav.setAttribute("aria-label", "分页");
    nav.appendChild(el("span", "共 " + total + " 条，第 " + page + "/" + pages + " 页"));
    function add(n, label, rel) {
      var li = el("li");
      if (n === page && !label) {
        li.appendChild(el("span", n)).setAttribute("aria-current", "page");
      } else {
        var a = el("a", label || n);
        a.href = target(Object.assign({}, state, {page: String(n)}));
        if (rel) { a.rel = rel; }
        li.appendChild(a);
      }
      list.appendChild(li);
    }
    if (page > 1) { add(1, "首页"); add(page - 1, "上一页", "prev"); }
    for (var n = Math.max(1, page - 2); n <= Math.min(pages, page + 2); n++) { add(n); }
    if (page < pages) { add(page + 1, "下一页", "next"); add(pages, "尾页"); }
    if (pages > 1) { nav.appendChild(list); }
    return nav;
  }

  function getJSON(name) {
    return fetch(root + "catalogue/data/" + name + ".json").then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    });
  }

  getJSON("index").then(function (data) {
    manifest = data;
    var state = choices();
    fill(state);
    field("province").addEventListener("change", function () { places(read()); });
    field("city").addEventListener("change", function () { places(read()); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      location.href = target(read());
    });
    var query = new URLSearchParams(location.search);
    if (box.getAttribute("data-view") || !FILTERS.concat(["sort", "page"]).some(function (n) { return query.get(n); })) {
      return;  // a pre-rendered view: the page shows it already
    }
    var names = shardsFor(state);
    status.textContent = "正在读取目录数据（" + names.length + " 个文件）……";
    Promise.all(names.map(getJSON)).then(function (shards) {
      var rows = [];
      shards.forEach(function (s) { rows = rows.concat(s.rows); });
      draw(state, rows);
    }).catch(function () { status.textContent = "目录数据读取失败，请刷新页面重试。"; });
  }).catch(function () { /* no data: the pre-rendered views still work */ });
}());
