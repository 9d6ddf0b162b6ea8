// Give every control an accessible name. Bokeh draws a checkbox's text in a <div>, and a
// slider handle (noUiSlider) without any label, so screen readers and browser tests could
// not tell the controls apart. Walks the (open) shadow roots and names what is unnamed.
(function () {
  function clean(node) {
    return (node ? node.textContent : "").replace(/\s+/g, " ").replace(/:\s*$/, "").trim();
  }
  function titleOf(root) {
    const title = root.querySelector(".bk-slider-title");
    if (title && title.firstChild && clean(title.firstChild)) return clean(title.firstChild);
    for (const el of root.querySelectorAll("label, .bk-clearfix")) {
      if (clean(el)) return clean(el);
    }
    return "";
  }
  function deepTitle(root) {
    const t = titleOf(root);
    if (t) return t;
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) {
        const inner = deepTitle(el.shadowRoot);
        if (inner) return inner;
      }
    }
    return "";
  }
  function nearbyTitle(host) {
    // EditableFloatSlider: the name sits in the row above the slider, in the same column
    const parent = host ? host.parentNode : null;
    if (!parent) return "";
    for (const sibling of parent.children) {
      if (sibling !== host && sibling.shadowRoot) {
        const t = deepTitle(sibling.shadowRoot);
        if (t) return t;
      }
    }
    return "";
  }
  function name(root) {
    root.querySelectorAll("input[type=checkbox]").forEach(function (input) {
      const text = input.parentNode.querySelector(".bk-label");
      if (text && !input.getAttribute("aria-label")) input.setAttribute("aria-label", clean(text));
    });
    root.querySelectorAll("input:not([type=checkbox]), select").forEach(function (input) {
      if (input.getAttribute("aria-label")) return;
      if (input.labels && [...input.labels].some(function (l) { return clean(l); })) return;
      const t = titleOf(root) || nearbyTitle(root.host);
      if (t) input.setAttribute("aria-label", t);
    });
    root.querySelectorAll("[role=slider]").forEach(function (handle) {
      if (handle.getAttribute("aria-label")) return;
      const t = titleOf(root) || nearbyTitle(root.host);
      if (t) handle.setAttribute("aria-label", t);
    });
    root.querySelectorAll("*").forEach(function (el) { if (el.shadowRoot) name(el.shadowRoot); });
  }
  name(document);
  setInterval(function () { name(document); }, 700);
})();
