/* Bar charts of the ranking page (综合评价排名), drawn with the vendored Chart.js from the
   "measures-charts" JSON that the view writes with json_script. The table above holds the
   same figures, so without JavaScript the page loses only the pictures. */
(function () {
  "use strict";
  var source = document.getElementById("measures-charts");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var colours = ["#1f5fa8", "#b3261e", "#1a7f37"];
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function shown(value, percent) {
    if (value === null || value === undefined) {
      return "—";
    }
    return percent ? value.toFixed(2) + "%" : String(value);
  }

  JSON.parse(source.textContent).forEach(function (chart) {
    var canvas = document.getElementById(chart.id);
    if (!canvas) {
      return;
    }
    // Horizontal bars: long Chinese names stay readable on a phone; one band per group.
    canvas.parentElement.style.height = 56 + chart.labels.length * (10 + 12 * chart.series.length) + "px";
    var options = {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: chart.percent
          ? { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } }
          : { beginAtZero: true, ticks: { precision: 0 } }
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: function (item) {
              return item.dataset.label + ": " + shown(item.raw, chart.percent);
            }
          }
        }
      }
    };
    if (still) {
      options.animation = false;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (series, index) {
          return { label: series.label, data: series.data, backgroundColor: colours[index % colours.length] };
        })
      },
      options: options
    });
  });
})();
