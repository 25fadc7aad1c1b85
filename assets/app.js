// Shows, in the page itself, that it came from a certified canister: the
// response to our own URL carries an IC-Certificate header.
document.body.dataset.scriptLoaded = "yes";
document.getElementById("script-status").textContent = "app.js ran";

// The stylesheet sets the banner's bottom border colour; reading it back
// shows whether /style.css was served (a refused stylesheet leaves none).
const banner = document.querySelector(".banner");
const border = getComputedStyle(banner).borderBottomColor;
document.getElementById("style-status").textContent =
  border === "rgb(41, 171, 226)" ? "style.css applied (" + border + ")" : "style.css missing";

fetch(location.href, { method: "GET", cache: "no-store" })
  .then((response) => {
    const certificate = response.headers.get("IC-Certificate");
    const etag = response.headers.get("ETag");
    document.getElementById("certificate-status").textContent = certificate
      ? "IC-Certificate present (" + certificate.length + " chars)" + (etag ? ", etag " + etag : "")
      : "no IC-Certificate header";
  })
  .catch((error) => {
    document.getElementById("certificate-status").textContent = "fetch failed: " + error;
  });
