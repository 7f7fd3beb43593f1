// GET /docs: openapi.yaml rendered by Swagger UI, served from /static/swagger-ui (vendored
// swagger-ui-dist, see the README there). "Execute" goes to the server that served this page,
// whatever the document's `servers` say, and the validator badge is off: it would send the
// document to an outside service.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.yaml",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    tryItOutEnabled: true,
    requestInterceptor: (request) => {
      const url = new URL(request.url, window.location.href);
      request.url = window.location.origin + url.pathname + url.search;
      return request;
    },
  });
});
