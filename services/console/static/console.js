// CharterWatch console: small progressive enhancements; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // After a refused form, take the keyboard to the first field marked invalid, so its message
  // (aria-describedby) is read at once.
  const invalid = document.querySelector("main [aria-invalid='true']");
  if (invalid instanceof HTMLElement) {
    invalid.focus();
  }
});
