// CharterWatch console, the work pages (queue, overdue review, case, remedies): a table's scroll region
// (a narrow screen) becomes a Tab stop only while it scrolls, so a keyboard reaches and scrolls it and a
// table that fits costs no extra stop. The pages work without this file.
"use strict";

(() => {
  function fitRegions() {
    document.querySelectorAll("[data-scroll-region]").forEach((region) => {
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
  });
})();
