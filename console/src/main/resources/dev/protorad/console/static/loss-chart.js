// A training job's loss, live: polls the job's latest state every two seconds while the page is
// open and plots each new step (kept in this page only; nothing is stored in the browser). A
// finished job's page carries the loss of every step it ran (data-history), plotted at once.
(function () {
  var el = document.getElementById("loss-chart");
  if (!el || typeof echarts === "undefined") {
    return;
  }
  var job = el.getAttribute("data-job");
  var chart = echarts.init(el);
  var points = JSON.parse(el.getAttribute("data-history") || "[]").map(function (loss, i) {
    return [i + 1, loss];
  });
  var render = function () {
    chart.setOption({
      animation: false,
      xAxis: { type: "value", name: "step", minInterval: 1 },
      yAxis: { type: "value", name: "loss", scale: true },
      tooltip: { trigger: "axis" },
      series: [{ type: "line", showSymbol: points.length < 60, data: points }]
    });
  };
  var poll = function () {
    fetch("/models/jobs/" + encodeURIComponent(job) + "/latest.json", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        document.getElementById("job-phase").textContent = s.phase;
        var last = points.length ? points[points.length - 1][0] : -1;
        if (s.loss !== null && s.step > last) {
          points.push([s.step, s.loss]);
          render();
        }
        if (["queued", "validating", "training", "evaluating", "saving"].indexOf(s.phase) >= 0) {
          setTimeout(poll, 2000);
        }
      });
  };
  render();
  poll();
})();
