"""The HTTP API at /api/v1/: assembles the router each app defines in its own ``api.py``."""

from ninja import NinjaAPI

from . import errors

api = NinjaAPI(
    title="Tongban API",
    version="1.0.0",
    description=(
        "通办一体化政务服务平台接口。Authenticate with `POST /api/v1/auth/token`, then send "
        "`Authorization: Bearer <token>`. Errors: `{code, message, details}`. Lists: "
        "`{items, count}` with `limit` and `offset`. Creating POSTs accept `Idempotency-Key`."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

from tongban.accounts.api import router as accounts_router  # noqa: E402
from tongban.cases.api import router as cases_router  # noqa: E402
from tongban.cases.api_intake import router as intake_router  # noqa: E402
from tongban.cases.api_worklist import router as worklist_router  # noqa: E402
from tongban.catalog.api import router as catalog_router  # noqa: E402
from tongban.catalog.api_exchange import router as exchange_router  # noqa: E402
from tongban.catalog.api_powers import router as powers_router  # noqa: E402
from tongban.notify.api import router as notify_router  # noqa: E402
from tongban.org.api import router as org_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/", org_router)
api.add_router("/", catalog_router)
api.add_router("/", powers_router)
api.add_router("/", exchange_router)
api.add_router("/", intake_router)  # before cases_router: /cases/intake is not a case number
api.add_router("/", cases_router)
api.add_router("/", worklist_router)
api.add_router("/", notify_router)
