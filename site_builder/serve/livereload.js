// Live reload for `site-builder serve`: injected into the HTML it serves, never written to output/.
// Listens to the preview's event stream; reloads the page when the build token differs from the
// one it was served with, and shows the last build's errors in an overlay. Error text comes from
// content files (file names included), so it is only ever inserted as text, never as HTML.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.EventSource) return;
  var pageBuild = script.getAttribute("data-build");
  var events = script.getAttribute("data-events");
  var OVERLAY_ID = "site-builder-preview-overlay";

  function removeOverlay() {
    var old = document.getElementById(OVERLAY_ID);
    if (old) old.parentNode.removeChild(old);
  }

  function el(tag, text, css) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (css) node.style.cssText = css;
    return node;
  }

  function showOverlay(state) {
    removeOverlay();
    var box = el("div", "", "position:fixed;left:0;right:0;top:0;max-height:60vh;overflow:auto;" +
      "z-index:2147483647;background:#fff5f5;color:#611;border-bottom:3px solid #c00;" +
      "font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;padding:12px 16px;" +
      "box-shadow:0 2px 8px rgba(0,0,0,.3);text-align:left");
    box.id = OVERLAY_ID;
    box.setAttribute("role", "alert");
    var close = el("button", "×", "float:right;font-size:18px;border:0;background:none;" +
      "cursor:pointer;color:#611");
    close.setAttribute("aria-label", "关闭（close）");
    close.onclick = removeOverlay;
    box.appendChild(close);
    box.appendChild(el("strong", state.published
      ? "以下文件有错误，未发布；其余页面已更新（the files below have errors and were left out）："
      : "构建失败，仍显示上一次成功构建的站点；请修正以下错误（the build failed: still showing the last good site）："));
    var list = el("ul", "", "margin:8px 0 0;padding-left:20px");
    list.className = "site-builder-preview-errors";
    state.errors.forEach(function (line) {
      list.appendChild(el("li", line, "white-space:pre-wrap;word-break:break-all"));
    });
    box.appendChild(list);
    (document.body || document.documentElement).appendChild(box);
  }

  // A browser opens at most six connections per host over HTTP/1.x, so only a visible tab
  // keeps a stream open; a tab shown again reconnects, gets the current state and reloads if
  // a build changed the site meanwhile.
  var source = null;
  function onState(event) {
    var state;
    try { state = JSON.parse(event.data); } catch (e) { return; }
    if (state.build !== pageBuild) {
      disconnect();
      window.location.reload();
      return;
    }
    if (state.errors.length) showOverlay(state); else removeOverlay();
  }
  function connect() {
    if (source) return;
    source = new EventSource(events);
    source.onmessage = onState;
  }
  function disconnect() {
    if (source) source.close();
    source = null;
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) disconnect(); else connect();
  });
  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", function () { if (!document.hidden) connect(); });
  if (!document.hidden) connect();
})();
