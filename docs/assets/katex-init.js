// Render math with the vendored KaTeX, offline. Two kinds of page meet here:
// Markdown pages, where pymdownx.arithmatex wraps math in .arithmatex with \( \) / \[ \],
// and notebook pages (mkdocs-jupyter), which keep raw $...$ / $$...$$. Rendering the
// whole article with all four delimiters handles both; code and pre blocks are skipped.
function dlbookRenderMath() {
  var root = document.querySelector("article") || document.body;
  renderMathInElement(root, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
      { left: "$", right: "$", display: false },
    ],
    ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option"],
    throwOnError: false,
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(dlbookRenderMath);  // Material's instant navigation
} else {
  document.addEventListener("DOMContentLoaded", dlbookRenderMath);
}
