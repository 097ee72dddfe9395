"""The embedded local stack: moto as AWS, the template's resources, the gateway and the pollers.

    with LocalStack(gateway_port=0, aws_port=0) as stack:
        requests.post(f"{stack.gateway_url}/webhooks/meta", ...)
        stack.wait_idle(10)

Handlers run in this process with the environment they would have in Lambda, pointed at moto by
AWS_ENDPOINT_URL (honoured by boto3). start() changes os.environ, sys.path and sys.stdout/stderr;
stop() puts them back.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from moderato_local import moto_speed
from moderato_local.faults import FaultInjector, FaultPlan
from moderato_local.gateway import (
    AccessLog,
    Gateway,
    GatewayServer,
    bind_gateway,
    dependency_probes,
    dependency_status,
    serve_in_thread,
)
from moderato_local.jwt_issuer import DEFAULT_SECRETS_PATH, JwtSettings
from moderato_local.provision import LOCAL_ONLY_KEYS, Provisioner, log_group_name
from moderato_local.resolver import REGION, Resolver
from moderato_local.routes import Route
from moderato_local.runtime import Activity, FunctionRuntime, OutputRedirect
from moderato_local.template import HTTP_API_TYPE, IMPLICIT_HTTP_API, Template, TemplateError
from moderato_local.transport import InProcessMoto
from moderato_local.wiring import Wired, Wiring, wire

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
DEFAULT_FUNCTIONS = REPO_ROOT / "functions"
DEFAULT_LOG_DIR = REPO_ROOT / ".local" / "logs"
DEFAULT_GATEWAY_PORT = 8787
DEFAULT_AWS_PORT = 5055
HOST = "127.0.0.1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Real credentials or profiles must never leak into handlers talking to the emulator.
_REMOVED_ENV = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")

log = logging.getLogger("moderato_local")


class PortInUse(RuntimeError):
    def __init__(self, port: int, option: str) -> None:
        super().__init__(f"port {port} is in use: pass {option} or stop the other process")
        self.port = port


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def _check_free(port: int, option: str) -> None:
    # ThreadedMotoServer would wait forever on a port it cannot bind: find out first.
    if port == 0:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise PortInUse(port, option) from error


class LocalStack:
    def __init__(
        self,
        template_path: str | Path = DEFAULT_TEMPLATE,
        functions_dir: str | Path = DEFAULT_FUNCTIONS,
        secrets_path: str | Path = DEFAULT_SECRETS_PATH,
        gateway_port: int = DEFAULT_GATEWAY_PORT,
        aws_port: int = DEFAULT_AWS_PORT,
        log_dir: str | Path = DEFAULT_LOG_DIR,
    ) -> None:
        self.template_path = Path(template_path)
        self.functions_dir = Path(functions_dir)
        self.secrets_path = Path(secrets_path)
        self.gateway_port = gateway_port
        self.aws_port = aws_port
        self.log_dir = Path(log_dir)
        self.log_file = self.log_dir / "lambda.log"
        self.retry_delay = int(_env_float("MODERATO_LOCAL_RETRY_DELAY", 1))
        self.schedule_seconds = _env_float("MODERATO_LOCAL_SCHEDULE_SECONDS", 60)
        # moto keeps expired TTL items forever; DynamoDB deletes them (moto_speed.TtlSweeper)
        self.ttl_sweep_seconds = _env_float("MODERATO_LOCAL_TTL_SWEEP_SECONDS", 60)
        self.gateway_url = ""
        self.aws_endpoint = ""
        self.resources: dict[str, Any] = {}  # logical id -> physical name / URL / ARN (what Ref gives)
        self.functions: dict[str, FunctionRuntime] = {}
        self.environment: dict[str, str] = {}  # what start() put in os.environ for the handlers
        self.notes: list[str] = []
        self.activity = Activity()
        plan = FaultPlan.from_env()
        self.faults = FaultInjector(plan) if plan else None
        self.ready = False
        self._probes: dict[str, Callable[[], object]] | None = None  # /health's AWS checks, built once ready
        self._wiring = Wiring()
        self._moto: ThreadedMotoServer | None = None
        self._sweeper: moto_speed.TtlSweeper | None = None
        self._transport: InProcessMoto | None = None
        self._server: GatewayServer | None = None
        self._access_logs: dict[str, AccessLog] = {}  # HttpApi logical id -> its access log
        self._redirect: OutputRedirect | None = None
        self._log_handler: logging.Handler | None = None
        self._saved_env: dict[str, str] | None = None
        self._saved_path: list[str] | None = None
        self._saved_modules: set[str] = set()

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        _check_free(self.aws_port, "--aws-port")
        try:
            self._server = bind_gateway(self.gateway_port, HOST)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(self.gateway_port, "--port") from error
            raise
        self.gateway_url = f"http://{HOST}:{self._server.server_address[1]}"
        serve_in_thread(self._server)  # /health answers 503 until ready
        self._open_log()
        self._start_moto()
        self._saved_env, self._saved_path = dict(os.environ), list(sys.path)
        self._saved_modules = set(sys.modules)
        self._apply_aws_env()
        self._send_in_process()

        template = Template.load(self.template_path)
        local_secrets = json.loads(self.secrets_path.read_text(encoding="utf-8"))
        resolver = Resolver(template)
        provisioner = Provisioner(template, resolver, self.client, local_secrets, self.gateway_url)
        provisioner.run()
        self.notes += provisioner.notes
        self.resources = {lid: resolver.resources[lid].ref for lid in provisioner.created}
        self._build_functions(template, resolver)

        self._wiring = wire(template, resolver, self.functions, self.client("sqs"), self.client("sns"),
                            self.retry_delay, self.schedule_seconds)
        self.notes += self._wiring.notes
        if self.faults is not None:
            # Before the handlers import: their clients must carry the hooks. Never in deployed code.
            self.faults.install()
            self.notes.append(f"fault injection on: {self.faults.plan.rate:.0%} of the handlers' AWS calls fail, "
                              f"{self.faults.plan.crash_batches} {self.faults.plan.crash_function} batch(es) crash")
        self._load_handlers()
        for poller in self._wiring.pollers:
            poller.start()
        api_ids = {lid: info.ref for lid, info in resolver.resources.items()}
        jwt_settings = JwtSettings.load(self.secrets_path) if "local_jwt" in local_secrets else None
        self._access_logs = self._open_access_logs(template, resolver)
        self._server.gateway = Gateway(self._wiring.routes, self.functions, jwt_settings, api_ids, self._health,
                                       self._access_logs)
        self.ready = True

    def stop(self) -> None:
        self.ready = False
        for poller in self._wiring.pollers:
            poller.stop()
        server, self._server = self._server, None
        closing = threading.Thread(target=_close_server, args=(server,)) if server else None
        if closing:
            closing.start()  # in parallel with the pollers' last long-poll, to stop faster
        for poller in self._wiring.pollers:
            poller.join(3.0)
        if closing:
            closing.join()
        # Before moto stops: the lines of the last requests are sent, as API Gateway would deliver them.
        for access_log in self._access_logs.values():
            access_log.close()
        self._access_logs = {}
        if self.faults is not None:
            self.faults.uninstall()
        if self._transport is not None:
            self._transport.uninstall()
            self._transport = None
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._redirect is not None:
            self._redirect.__exit__()
            self._redirect = None
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None
        if self._saved_path is not None:
            sys.path[:] = self._saved_path
            self._saved_path = None
            self._forget_handler_modules()
        if self._log_handler is not None:
            log.removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None

    # --- start-up steps -----------------------------------------------------------------------------

    def _open_log(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._log_handler = logging.FileHandler(self.log_file, encoding="utf-8")
        self._log_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s local-stack %(message)s"))
        log.addHandler(self._log_handler)
        log.setLevel(logging.DEBUG)
        log.propagate = False  # keep the console clean; everything is in the log file
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access lines
        log.info("==== local stack starting: %s, gateway %s ====", self.template_path, self.gateway_url)

    def _start_moto(self) -> None:
        moto_speed.install()  # moto's costs that grow with what it holds (see there)
        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.aws_port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.aws_endpoint = f"http://{host}:{port}"
        # moto keeps its state in module globals: a stack started earlier in this process (tests)
        # would leave queues and messages behind. Start from an empty AWS, as a fresh account.
        reset = urllib.request.Request(f"{self.aws_endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()  # nosec B310  # our own moto on 127.0.0.1
        if self.ttl_sweep_seconds > 0:
            self._sweeper = moto_speed.TtlSweeper(self.ttl_sweep_seconds)
            self._sweeper.start()

    def _apply_aws_env(self) -> None:
        for key in _REMOVED_ENV:
            os.environ.pop(key, None)
        self.environment = {
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            **FAKE_CREDENTIALS,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        os.environ.update(self.environment)

    def _send_in_process(self) -> None:
        """This process's clients (provisioning, pollers, handlers) reach moto without a socket
        (transport.py); before any is created, as botocore copies a session's hooks into a new client."""
        if os.environ.get("MODERATO_LOCAL_MOTO_HTTP") == "1":
            return
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        self._transport = InProcessMoto(self.aws_endpoint)
        self._transport.install(boto3.DEFAULT_SESSION.events)
        self.notes.append("handlers reach moto in process (MODERATO_LOCAL_MOTO_HTTP=1: over HTTP)")

    def _build_functions(self, template: Template, resolver: Resolver) -> None:
        union: dict[str, str] = {}
        for spec in template.functions():
            environment = {key: _env_value(value) for key, value in resolver.resolve(spec.environment).items()
                           if value is not None}
            for key, value in environment.items():
                if key in union and union[key] != value:
                    # Each handler imports with its own value (FunctionRuntime.load); later reads of
                    # os.environ see the first function's. Fine for names like POWERTOOLS_SERVICE_NAME.
                    log.debug("env %s differs between functions; process-wide value %r", key, union[key])
                union.setdefault(key, value)
            name = resolver.resources[spec.logical_id].ref
            self.functions[spec.logical_id] = FunctionRuntime(spec, name, environment, self.activity, self.faults)
        self.environment.update(union)
        os.environ.update(union)

    def _open_access_logs(self, template: Template, resolver: Resolver) -> dict[str, AccessLog]:
        """An access log per HTTP API whose AccessLogSettings name a log group, in the template's Format."""
        apis = list(template.of_type(HTTP_API_TYPE))
        if any(route.api_id == IMPLICIT_HTTP_API for route in self._wiring.routes):
            apis.append(IMPLICIT_HTTP_API)
        # A session of its own, like /health's probes: the fault injector hooks the default one, and
        # API Gateway's log delivery is not one of the handlers' AWS calls.
        logs = boto3.session.Session().client("logs", **self.aws_settings())
        opened: dict[str, AccessLog] = {}
        for api_id in apis:
            settings = template.http_api(api_id).get("AccessLogSettings") or {}
            if not settings.get("Format") or not settings.get("DestinationArn"):
                continue
            try:
                group = log_group_name(resolver.resolve(settings["DestinationArn"]))
            except TemplateError as error:
                self.notes.append(f"{api_id}: access log not written locally ({error})")
                continue
            stream = f"{resolver.resources[api_id].ref}_$default"
            opened[api_id] = AccessLog(str(resolver.resolve(settings["Format"])), group, stream, logs).start()
            log.info("access log of %s: %s, stream %s", api_id, group, stream)
        return opened

    def _load_handlers(self) -> None:
        if str(self.functions_dir) not in sys.path:
            sys.path.insert(0, str(self.functions_dir))  # Lambda puts the CodeUri first on the path
        self._redirect = OutputRedirect(self.log_file)
        self._redirect.__enter__()
        for function in self.functions.values():
            function.load()

    def _forget_handler_modules(self) -> None:
        """Drop handler modules imported by this stack, so a next stack cold-starts them.

        Their boto3 clients were built for this stack's endpoint; reusing them would talk to nothing.
        """
        root = str(self.functions_dir.resolve())
        for name in set(sys.modules) - self._saved_modules:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin and str(Path(origin).resolve()).startswith(root):
                del sys.modules[name]

    # --- what tests and the CLI use -----------------------------------------------------------------

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def aws_settings(self) -> dict[str, str]:
        """Keyword arguments for boto3.client(...) that reach the embedded AWS."""
        return {"endpoint_url": self.aws_endpoint, "region_name": REGION,
                "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

    def wired(self) -> list[Wired]:
        return list(self._wiring.wired)

    @property
    def routes(self) -> list[Route]:
        return list(self._wiring.routes)

    @property
    def polled_queues(self) -> list[str]:
        return list(self._wiring.polled_queues)

    def platforms(self) -> list[str]:
        """Platform names with local secrets: the {platform} values worth printing URLs for."""
        data = json.loads(self.secrets_path.read_text(encoding="utf-8"))
        return [key for key in data if key not in LOCAL_ONLY_KEYS and not key.startswith("_")]

    def wait_idle(self, timeout: float, settle: float = 0.3) -> bool:
        """True once polled queues are empty and nothing runs, for ``settle`` seconds in a row."""
        sqs = self.client("sqs")
        return wait_until_quiet(lambda: self.activity.in_flight == 0 and queues_empty(sqs, self.polled_queues),
                                timeout, settle)

    def _health(self) -> tuple[bool, dict[str, Any]]:
        if self.ready and self._probes is None:
            self._probes = dependency_probes(self.aws_settings(), self.resources.get("IngestQueue"),
                                             self.resources.get("CasesTable"))
        return self.ready, {
            "dependencies": dependency_status(self._probes) if self.ready and self._probes else {},
            "functions": sorted(self.functions),
            "pollers": len(self._wiring.pollers),
            "inflight": self.activity.in_flight,
            "invocations": self.activity.total,
            "faults_injected": dict(self.faults.injected) if self.faults else {},
            "aws_endpoint": self.aws_endpoint,
        }


def _close_server(server: GatewayServer) -> None:
    server.shutdown()
    server.server_close()


def wait_until_quiet(is_quiet: Callable[[], bool], timeout: float, settle: float, every: float = 0.1) -> bool:
    """True once ``is_quiet()`` has held for ``settle`` seconds in a row, False after ``timeout``."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        if is_quiet():
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return True
        else:
            quiet_since = None
        time.sleep(every)
    return False


def queues_empty(sqs: Any, queue_urls: list[str]) -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
             "ApproximateNumberOfMessagesDelayed"]
    for url in queue_urls:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if any(int(attributes.get(name, 0)) for name in names):
            return False
    return True


def _env_value(value: Any) -> str:
    """Lambda environment values are strings; CloudFormation writes booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"environment value {value!r} does not resolve to a string")
    return str(value)
