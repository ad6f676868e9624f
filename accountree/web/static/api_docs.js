/* Swagger UI for /api/v1/docs, from the vendored bundle (no CDN: the page works offline). */
window.addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({url: el.dataset.spec, dom_id: '#swagger-ui', deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout'});
});
