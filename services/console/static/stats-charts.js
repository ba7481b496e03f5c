// CharterWatch console: the statistics pages' charts (처리 현황, 만족도, 연간 보고서), drawn with chart.js
// (served from /static/vendor/chartjs) from the page's <script type="application/json" id="cw-charts">
// block, which is data, not script: the policy ('self' only) runs no inline script. Each canvas names its
// chart in data-chart and carries role="img" with an aria-label; the numbers are in the table after it,
// so the page says everything without this file.
"use strict";

(() => {
  const UNITS = { "건": "건", "%": "%", "근무일": "일", "점": "점", "원": "원" };
  const POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star"];

  function formatter(unit) {
    const suffix = UNITS[unit] ?? "";
    return (value) => {
      if (value === null || value === undefined || Number.isNaN(value)) {
        return "-";
      }
      const number = Number(value);
      const text = unit === "%" || unit === "근무일" || unit === "점"
        ? number.toLocaleString("ko-KR", { maximumFractionDigits: 2 })
        : number.toLocaleString("ko-KR");
      return text + suffix;
    };
  }

  function draw(canvas, spec) {
    const format = formatter(spec.unit);
    const valueAxis = spec.horizontal ? "x" : "y";
    const box = canvas.parentElement;
    if (box && spec.horizontal) {
      // room for each label's bars: a chart of many petition types grows rather than squeezes
      box.style.height = `${Math.max(16, 6 + spec.labels.length * spec.datasets.length * 2.4)}rem`;
    }
    const scales = {
      [valueAxis]: {
        beginAtZero: true,
        ticks: { callback: format, precision: spec.unit === "건" ? 0 : undefined },
        title: { display: true, text: spec.unit },
      },
    };
    if (spec.max !== null && spec.max !== undefined) {
      scales[valueAxis].max = spec.max;
    }
    return new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((d, i) => ({
          label: d.label,
          data: d.data,
          backgroundColor: d.color,
          borderColor: d.color,
          borderWidth: spec.type === "line" ? 3 : 0,
          borderDash: d.dashed ? [8, 5] : [],
          pointStyle: POINTS[i % POINTS.length],
          pointRadius: 5,
          maxBarThickness: 56,
          spanGaps: true,
        })),
      },
      options: {
        animation: false, // nothing moves: calmer to read, and the same picture every time
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales,
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true } },
          tooltip: {
            callbacks: { label: (ctx) => `${ctx.dataset.label}: ${format(ctx.parsed[valueAxis])}` },
          },
        },
      },
    });
  }

  // A table's scroll region is a Tab stop (tabindex="0" in the page) only while it scrolls: a keyboard then
  // reaches and scrolls it, and a table that fits costs no extra stop.
  function fitRegions() {
    document.querySelectorAll(".cw-table[data-scroll-region]").forEach((region) => {
      if (region.scrollWidth > region.clientWidth + 1) {
        region.setAttribute("tabindex", "0");
      } else if (region !== document.activeElement) {
        region.removeAttribute("tabindex");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    fitRegions();
    window.addEventListener("resize", fitRegions);
    document.querySelectorAll("[data-print]").forEach((button) => {
      button.addEventListener("click", () => window.print());
    });
    const block = document.getElementById("cw-charts");
    if (!block || typeof Chart === "undefined") {
      return;
    }
    let charts;
    try {
      charts = JSON.parse(block.textContent || "{}");
    } catch (_) {
      return;
    }
    const style = getComputedStyle(document.body);
    Chart.defaults.font.family = style.fontFamily;
    Chart.defaults.font.size = 14;
    Chart.defaults.color = style.color;
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const spec = charts[canvas.dataset.chart];
      if (spec) {
        draw(canvas, spec);
        canvas.dataset.drawn = "true";
      }
    });
  });
})();
