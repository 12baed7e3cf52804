// The convolution page's interactive widget. tools/convwidget.py computes every number with
// dlbook.conv at build time and embeds them as JSON; this script only shows them: it never
// multiplies or adds (what a reader sees is what dlbook computed), it draws the grids, moves the
// highlighted window and says where it is. Linked only from pages that have the widget.
(function () {
  "use strict";

  // Interface strings by the page's language (<html lang>: "zh..." -> Chinese).
  var TEXT = {
    en: {
      region: "Convolution, step by step",
      examples: "Examples",
      single: "One channel",
      multi: "3 channels, 2 filters",
      padding: "Padding",
      stride: "Stride",
      prev: "Previous",
      next: "Next",
      slider: "Window position",
      stage: "Grids of the current step; left and right arrow keys move the window",
      input: "Input",
      kernel: "Kernel",
      filter: "Filter",
      channel: "channel",
      products: "Products",
      output: "Output",
      outputOf: function (k) { return "Output of filter " + k; },
      channelSums: "Channel sums: ",
      goesTo: "output at ",
      bias: "bias",
      size: "Output size",
      rounds: "not a whole number: conv2d rounds down, and rows and columns that no window reaches are ignored",
      step: function (n, total) { return "Step " + n + " of " + total; },
      position: function (s, multi) {
        return (multi ? "filter " + s.k + ", " : "") + "position (" + s.i + ", " + s.j + ")";
      },
      announce: function (where, s) {
        return where + ": sum = " + num(s.sum) + ", plus bias " + num(s.bias) + " = " + num(s.value);
      },
    },
    zh: {
      region: "卷积，一步一步",
      examples: "例子",
      single: "单通道",
      multi: "3 个通道，2 个卷积核",
      padding: "填充",
      stride: "步幅",
      prev: "上一步",
      next: "下一步",
      slider: "窗口位置",
      stage: "当前这一步的网格；左右方向键移动窗口",
      input: "输入",
      kernel: "卷积核",
      filter: "卷积核",
      channel: "通道",
      products: "乘积",
      output: "输出",
      outputOf: function (k) { return "卷积核 " + k + " 的输出"; },
      channelSums: "各通道之和：",
      goesTo: "输出，",
      bias: "偏置",
      size: "输出大小",
      rounds: "不是整数：conv2d 向下取整，没有窗口到达的行和列被忽略",
      step: function (n, total) { return "第 " + n + " 步，共 " + total + " 步"; },
      position: function (s, multi) {
        return (multi ? "卷积核 " + s.k + "，" : "") + "位置 (" + s.i + ", " + s.j + ")";
      },
      announce: function (where, s) {
        return where + "：和 = " + num(s.sum) + "，加偏置 " + num(s.bias) + " = " + num(s.value);
      },
    },
  };

  var MINUS = "\u2212";
  var counter = 0; // distinct ids and radio-group names when a page has several widgets

  // A number as the page prints it: a true minus sign; in a sum, a negative term in parentheses.
  function num(v) { return String(v).replace(/^-/, MINUS); }
  function term(v) { return v < 0 ? "(" + num(v) + ")" : num(v); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function inside(index, range) { return index >= range[0] && index < range[1]; }

  // One grid of numbers: a labelled group of cells; mark(r, c) gives a cell's extra classes.
  function grid(values, label, kind, mark, cell) {
    var caption = el("div", { class: "dlbook-cw__cap", id: "dlbook-cw-" + ++counter, text: label });
    var box = el("div", { class: "dlbook-cw__grid dlbook-cw__grid--" + kind });
    box.style.gridTemplateColumns = "repeat(" + values[0].length + ", auto)";
    values.forEach(function (row, r) {
      row.forEach(function (v, c) {
        var classes = "dlbook-cw__cell" + (mark ? mark(r, c) : "");
        box.appendChild(cell ? cell(v, r, c, classes) : el("span", { class: classes, text: num(v) }));
      });
    });
    return el("div", { class: "dlbook-cw__fig", role: "group", "aria-labelledby": caption.id }, [caption, box]);
  }

  function op(symbol) { return el("span", { class: "dlbook-cw__op", "aria-hidden": "true", text: symbol }); }

  // The output-size formula along one axis ("H" or "W"), with the numbers of the data (never
  // recomputed); when the division is not whole, conv2d rounds down, and the text says so.
  function formula(label, axis, f, t) {
    var fraction = "(" + f.size + " + 2\u00b7" + f.pad + " " + MINUS + " " + f.filter + ") / " + f.stride;
    var text = label + " = (" + axis + " + 2P " + MINUS + " F" + axis + ") / S + 1 = ";
    if (f.exact) return text + fraction + " + 1 = " + f.quotient + " + 1 = " + f.out;
    return text + "\u230a" + fraction + "\u230b + 1 = \u230a" + f.quotient + "\u230b + 1 = " + f.out + " (" + t.rounds + ")";
  }

  // One tab's panel (returned): controls, grids and sums of one example.
  function examplePanel(example, multi, t, id) {
    var settings = example.settings;
    var state = { setting: settings[0], pos: 0 };
    var name = "dlbook-cw-" + id;

    function radios(legend, key) {
      var seen = [];
      settings.forEach(function (s) { if (seen.indexOf(s[key]) < 0) seen.push(s[key]); });
      var group = el("fieldset", { class: "dlbook-cw__choice" }, [el("legend", { text: legend })]);
      seen.forEach(function (value) {
        var input = el("input", { type: "radio", name: name + "-" + key, value: String(value) });
        input.checked = value === state.setting[key];
        input.addEventListener("change", choose);
        group.appendChild(el("label", {}, [input, document.createTextNode(" " + value)]));
      });
      return group;
    }

    var padGroup = radios(t.padding, "pad");
    var strideGroup = radios(t.stride, "stride");
    var size = el("p", { class: "dlbook-cw__size" });
    var prev = el("button", { type: "button", class: "dlbook-cw__prev", text: "\u25c0 " + t.prev });
    var next = el("button", { type: "button", class: "dlbook-cw__next", text: t.next + " \u25b6" });
    var slider = el("input", { type: "range", class: "dlbook-cw__slider", min: "0", step: "1", "aria-label": t.slider });
    var where = el("span", { class: "dlbook-cw__where" });
    var stage = el("div", { class: "dlbook-cw__stage", tabindex: "0", role: "group", "aria-label": t.stage });
    var equation = el("div", { class: "dlbook-cw__eq" });
    var live = el("p", { class: "dlbook-cw__live", "aria-live": "polite" });
    var panel = el("div", { class: "dlbook-cw__panel", role: "tabpanel", id: name + "-panel" }, [
      el("div", { class: "dlbook-cw__controls" }, [padGroup, strideGroup]),
      size,
      el("div", { class: "dlbook-cw__nav" }, [prev, slider, next, where]),
      stage,
      equation,
      live,
    ]);

    function choose() {
      var pad = padGroup.querySelector("input:checked").value;
      var stride = strideGroup.querySelector("input:checked").value;
      settings.forEach(function (s) {
        if (String(s.pad) === pad && String(s.stride) === stride) state.setting = s;
      });
      go(0);
    }

    function go(pos) {
      var steps = state.setting.steps;
      state.pos = Math.max(0, Math.min(steps.length - 1, pos));
      show(true);
    }

    function show(announce) {
      var s = state.setting;
      var steps = s.steps;
      var step = steps[state.pos];
      var kernel = example.kernel[step.k];
      var order = {}; // output cell "k,i,j" -> its step number
      steps.forEach(function (st, n) { order[st.k + "," + st.i + "," + st.j] = n; });

      size.textContent = "";
      size.appendChild(el("strong", { text: t.size + ": " }));
      size.appendChild(document.createTextNode(
        JSON.stringify(s.rows) === JSON.stringify(s.cols) // a square input and kernel: one line says both
          ? formula("OH = OW", "H", s.rows, t)
          : formula("OH", "H", s.rows, t) + "; " + formula("OW", "W", s.cols, t)));

      slider.max = String(steps.length - 1);
      slider.value = String(state.pos);
      var position = t.position(step, multi);
      var stepText = t.step(state.pos + 1, steps.length);
      slider.setAttribute("aria-valuetext", stepText + ": " + position);
      where.textContent = stepText + " \u00b7 " + position;
      prev.disabled = state.pos === 0;
      next.disabled = state.pos === steps.length - 1;

      stage.textContent = "";
      var channels = el("div", { class: "dlbook-cw__channels" });
      s.input.forEach(function (channel, c) {
        var suffix = multi ? ", " + t.channel + " " + c : "";
        var row = el("div", { class: "dlbook-cw__row", "data-channel": String(c) });
        row.appendChild(grid(channel, t.input + suffix, "input", function (r, col) {
          var classes = inside(r, s.inside_rows) && inside(col, s.inside_cols) ? "" : " is-pad";
          return classes + (inside(r, step.rows) && inside(col, step.cols) ? " is-win" : "");
        }));
        // an operator wraps to the next line with the grid it introduces, never alone at a line's end
        row.appendChild(el("div", { class: "dlbook-cw__term" }, [
          op("\u00d7"), grid(kernel[c], (multi ? t.filter + " " + step.k : t.kernel) + suffix, "kernel")]));
        var patch = channel.slice(step.rows[0], step.rows[1]).map(function (line) {
          return line.slice(step.cols[0], step.cols[1]);
        });
        var products = grid(step.products[c], t.products + suffix, "products", null, function (v, r, col, classes) {
          return el("span", { class: classes }, [
            el("span", { class: "dlbook-cw__factors", text: num(patch[r][col]) + "\u00d7" + num(kernel[c][r][col]) }),
            el("span", { class: "dlbook-cw__product", text: num(v) }),
          ]);
        });
        if (multi) {
          products.appendChild(el("div", { class: "dlbook-cw__chsum" }, [
            document.createTextNode("\u03a3 = "),
            el("span", { class: "dlbook-cw__chsum-value", text: num(step.channel_sums[c]) }),
          ]));
        }
        row.appendChild(el("div", { class: "dlbook-cw__term" }, [op("="), products]));
        channels.appendChild(row);
      });
      stage.appendChild(channels);
      var outputs = el("div", { class: "dlbook-cw__outputs" });
      s.out.forEach(function (map, k) {
        var label = multi ? t.outputOf(k) : t.output;
        outputs.appendChild(grid(map, label, "output", null, function (v, i, j, classes) {
          var n = order[k + "," + i + "," + j];
          if (n === state.pos) classes += " is-cur";
          return el("span", { class: classes, "data-k": String(k), "data-i": String(i), "data-j": String(j),
                              text: n <= state.pos ? num(v) : "" });
        }));
      });
      stage.appendChild(el("div", { class: "dlbook-cw__term" }, [op("\u2192"), outputs]));

      // The sums: every product (one channel) or every channel's sum (several), then the bias.
      var terms = multi ? step.channel_sums : [].concat.apply([], step.products[0]);
      equation.textContent = "";
      equation.appendChild(el("p", {}, [
        document.createTextNode(multi ? t.channelSums : ""),
        el("span", { class: "dlbook-cw__terms", text: terms.map(term).join(" + ") }),
        document.createTextNode(" = "),
        el("strong", { class: "dlbook-cw__sum", text: num(step.sum) }),
      ]));
      equation.appendChild(el("p", {}, [
        document.createTextNode(num(step.sum) + " + " + term(step.bias) + " (" + t.bias + ") = "),
        el("strong", { class: "dlbook-cw__value", text: num(step.value) }),
        document.createTextNode(" \u2192 " + t.goesTo + position),
      ]));
      if (announce) live.textContent = t.announce(position, step);
    }

    prev.addEventListener("click", function () { go(state.pos - 1); });
    next.addEventListener("click", function () { go(state.pos + 1); });
    slider.addEventListener("input", function () { go(Number(slider.value)); });
    stage.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };
      if (event.key in moves) go(state.pos + moves[event.key]);
      else if (event.key === "Home") go(0);
      else if (event.key === "End") go(state.setting.steps.length - 1);
      else return;
      event.preventDefault();
    });
    show(false);
    return panel;
  }

  function build(container) {
    var data = JSON.parse(container.querySelector("script.dlbook-convwidget__data").textContent);
    var lang = (document.documentElement.getAttribute("lang") || "en").toLowerCase();
    var t = lang.indexOf("zh") === 0 ? TEXT.zh : TEXT.en;
    var id = ++counter;
    var tablist = el("div", { class: "dlbook-cw__tabs", role: "tablist", "aria-label": t.examples });
    var root = el("section", { class: "dlbook-cw", "aria-label": t.region }, [tablist]);
    var tabs = [];
    [["single", false], ["multi", true]].forEach(function (entry, n) {
      var panel = examplePanel(data[entry[0]], entry[1], t, id + "-" + entry[0]);
      var tab = el("button", { type: "button", role: "tab", id: panel.id + "-tab", "aria-controls": panel.id,
                               class: "dlbook-cw__tab", text: t[entry[0]] });
      panel.setAttribute("aria-labelledby", tab.id);
      tabs.push({ tab: tab, panel: panel });
      tablist.appendChild(tab);
      root.appendChild(panel);
    });

    function select(chosen, focus) {
      tabs.forEach(function (pair, n) {
        var on = n === chosen;
        pair.tab.setAttribute("aria-selected", String(on));
        pair.tab.tabIndex = on ? 0 : -1; // one tab stop for the tab list; arrow keys move inside it
        pair.panel.hidden = !on;
        if (on && focus) pair.tab.focus();
      });
    }
    tabs.forEach(function (pair, n) {
      pair.tab.addEventListener("click", function () { select(n, false); });
      pair.tab.addEventListener("keydown", function (event) {
        var to = { ArrowLeft: n - 1, ArrowRight: n + 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (to === undefined) return;
        select((to + tabs.length) % tabs.length, true);
        event.preventDefault();
      });
    });
    select(0, false);

    var fallback = container.querySelector(".dlbook-convwidget__fallback");
    if (fallback) fallback.remove();
    container.appendChild(root);
  }

  function start() {
    document.querySelectorAll("[data-dlbook-convwidget]").forEach(function (container) {
      if (container.querySelector(".dlbook-cw")) return; // already built
      try {
        build(container);
      } catch (err) {
        // the static diagrams and the message above stay; say why in the console
        console.error("convolution widget:", err);
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
