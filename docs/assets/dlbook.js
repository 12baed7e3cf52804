// Keyboard access to what scrolls sideways (WCAG 2.1.1; axe: scrollable-region-focusable).
// A wide formula, table, figure or code output scrolls inside its own box; a box that does scroll, at the
// window's present width, gets tabindex="0" so a keyboard can reach and scroll it, and loses it
// again when the window grows and nothing scrolls there any more. Code blocks are Material's own
// business (they are always focusable).
(function () {
  var SCROLLERS = ".katex-display, div.arithmatex, .md-typeset__scrollwrap, .jp-OutputArea-output, .dlbook-figure-box";
  var MARK = "data-dlbook-scroll";

  function update() {
    var article = document.querySelector("article");
    if (!article) return;
    article.querySelectorAll(SCROLLERS).forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(el).overflowX);
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute(MARK, "");
      } else if (!scrolls && el.hasAttribute(MARK)) {
        el.removeAttribute("tabindex");
        el.removeAttribute(MARK);
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { pending = null; update(); });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(later);  // every page, with Material's instant navigation too
  } else {
    document.addEventListener("DOMContentLoaded", later);
  }
  window.addEventListener("resize", later);
  window.addEventListener("load", later);  // after fonts and images have set the final widths
})();
