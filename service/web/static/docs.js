// GET /docs: openapi.yaml rendered by Swagger UI, served from /static/swagger-ui (vendored
// swagger-ui-dist; see its README line in that folder). The validator badge is off: it would
// send the document to an outside service.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.yaml",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    tryItOutEnabled: true,
  });
});
