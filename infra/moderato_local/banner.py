"""The start-up banner of ``moderato local``: where everything is and what was wired."""

from __future__ import annotations

from rich.console import Console

from moderato.platforms import PLATFORMS
from moderato_local.stack import LocalStack


def webhook_urls(stack: LocalStack) -> list[str]:
    """One URL per platform that has both a webhook implementation and local secrets."""
    urls: list[str] = []
    for route in stack.routes:
        if "{platform}" not in route.path:
            continue
        for platform in (name for name in stack.platforms() if name in PLATFORMS):
            url = stack.gateway_url + route.path.replace("{platform}", platform)
            if url not in urls:
                urls.append(url)
    return urls


def print_banner(console: Console, stack: LocalStack) -> None:
    console.rule("[bold]Moderato local stack")
    console.print(f"AWS emulator (moto)  [cyan]{stack.aws_endpoint}[/]  region eu-west-1, fake credentials")
    console.print(f"HTTP API gateway     [cyan]{stack.gateway_url}[/]")
    console.print(f"health               [cyan]{stack.gateway_url}/health[/]")
    if any(route.path == "/console" for route in stack.routes):
        console.print(f"review console       [cyan]{stack.gateway_url}/console[/]  sign in with a token from "
                      "`moderato token --user alice --group moderators`")
    for url in webhook_urls(stack):
        console.print(f"webhook              [cyan]{url}[/]")
    console.print(f"handler logs         {stack.log_file}")
    console.print(f"resources            {len(stack.resources)} created from {stack.template_path.name}")
    console.print("wired:")
    for item in stack.wired():
        # soft_wrap: one line per wiring, however narrow the terminal (a hard wrap splits a route in two).
        console.print(f"  {item.function:<22} {item.type:<10} {item.detail}", highlight=False, soft_wrap=True)
    for note in stack.notes:
        console.print(f"  [yellow]note[/] {note}", highlight=False)
