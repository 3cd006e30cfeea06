// The pictures of an adapter version's evaluation, drawn from the figures each chart's container
// carries in its data-chart attribute (counts and rates only; no note text reaches the browser).
(function () {
  if (typeof echarts === "undefined") {
    return;
  }
  var data = function (id) {
    var el = document.getElementById(id);
    return el ? { el: el, d: JSON.parse(el.getAttribute("data-chart")) } : null;
  };
  var unit = { type: "value", min: 0, max: 1, nameLocation: "middle", nameGap: 28 };

  var r = data("reliability-chart");
  if (r) {
    echarts.init(r.el).setOption({
      animation: false,
      title: { text: "Reliability" },
      tooltip: { trigger: "item" },
      legend: { top: 28 },
      grid: { top: 70 },
      xAxis: Object.assign({ name: "mean confidence" }, unit),
      yAxis: Object.assign({}, unit, { name: "accuracy", nameGap: 36 }),
      series: [
        {
          name: "accuracy per confidence bin",
          type: "line",
          data: r.d.bins.map(function (b) { return [b[0], b[1], b[2]]; }),
          symbolSize: function (v) { return Math.min(24, 6 + Math.sqrt(v[2])); }
        },
        {
          name: "perfect calibration",
          type: "line",
          data: [[0, 0], [1, 1]],
          showSymbol: false,
          lineStyle: { type: "dashed" }
        }
      ]
    });
  }

  var c = data("coverage-chart");
  if (c) {
    var series = [
      {
        name: "threshold swept",
        type: "line",
        showSymbol: false,
        data: c.d.curve.map(function (p) { return [p[0], p[1], p[2]]; })
      }
    ];
    if (c.d.gate) {
      series.push({
        name: "review gate (calibration notes)",
        type: "scatter",
        symbolSize: 12,
        data: [c.d.gate]
      });
    }
    echarts.init(c.el).setOption({
      animation: false,
      title: { text: "Precision against coverage" },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          return "coverage " + p.value[0].toFixed(3) + "<br>precision " + p.value[1].toFixed(3) +
            "<br>threshold " + p.value[2].toFixed(4);
        }
      },
      legend: { top: 28 },
      grid: { top: 70 },
      xAxis: Object.assign({ name: "coverage (answered without review)" }, unit),
      yAxis: {
        type: "value", name: "precision", max: 1, scale: true, nameLocation: "middle", nameGap: 36
      },
      series: series
    });
  }

  var m = data("confusion-chart");
  if (m) {
    var max = 1;
    m.d.cells.forEach(function (x) { max = Math.max(max, x[2]); });
    echarts.init(m.el).setOption({
      animation: false,
      title: { text: "Confusion (right label down, predicted across)" },
      tooltip: {
        formatter: function (p) {
          return "right " + m.d.labels[p.value[1]] + "<br>predicted " + m.d.labels[p.value[0]] +
            "<br>" + p.value[2] + " notes";
        }
      },
      grid: { top: 50, left: 160, bottom: 140 },
      xAxis: { type: "category", data: m.d.labels, axisLabel: { rotate: 90, fontSize: 9 } },
      yAxis: { type: "category", data: m.d.labels, inverse: true, axisLabel: { fontSize: 9 } },
      visualMap: {
        min: 0, max: max, calculable: true, orient: "vertical", right: 0, top: 50,
        inRange: { color: ["#f6f8fa", "#12355b"] }
      },
      series: [{ type: "heatmap", data: m.d.cells }]
    });
  }

  var l = data("loss-history-chart");
  if (l) {
    echarts.init(l.el).setOption({
      animation: false,
      title: { text: "Training loss" },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", name: "step", minInterval: 1, nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value", name: "loss", scale: true, nameLocation: "middle", nameGap: 36 },
      series: [{
        type: "line",
        showSymbol: l.d.loss.length < 60,
        data: l.d.loss.map(function (v, i) { return [i + 1, v]; })
      }]
    });
  }
})();
