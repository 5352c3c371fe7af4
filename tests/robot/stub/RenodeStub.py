"""Renode's Robot keywords with their real signatures (renode src/Renode/RobotFrameworkEngine/RenodeKeywords.cs
and friends, tests/renode-keywords.robot), for `robot --dryrun` only. Every keyword fails if actually run."""
from __future__ import annotations

from robot.api.deco import keyword, library


def _needs_renode(name: str):
    raise RuntimeError(f"{name}: this is the dry-run stub of Renode's keywords; run the suite with renode-test")


@library(scope="GLOBAL", auto_keywords=False)
class RenodeStub:
    @keyword("Setup")
    def setup(self):
        _needs_renode("Setup")

    @keyword("Teardown")
    def teardown(self):
        _needs_renode("Teardown")

    @keyword("Test Setup")
    def test_setup(self):
        _needs_renode("Test Setup")

    @keyword("Test Teardown")
    def test_teardown(self):
        _needs_renode("Test Teardown")

    @keyword("Reset Emulation")
    def reset_emulation(self):
        _needs_renode("Reset Emulation")

    @keyword("Start Emulation")
    def start_emulation(self):
        _needs_renode("Start Emulation")

    @keyword("Execute Command")
    def execute_command(self, command: str, machine: str | None = None) -> str:
        _needs_renode("Execute Command")

    @keyword("Execute Python")
    def execute_python(self, command: str, machine: str | None = None):
        _needs_renode("Execute Python")

    @keyword("Create Log Tester")
    def create_log_tester(self, timeout: float, defaultPauseEmulation: bool | None = None,
                          maxLogEntries: int = 1_000_000):
        _needs_renode("Create Log Tester")

    @keyword("Wait For Log Entry")
    def wait_for_log_entry(self, pattern: str, timeout: float | None = None, keep: bool = False,
                           treatAsRegex: bool = False, pauseEmulation: bool | None = None, level: str | None = None,
                           startEmulation: bool = True) -> str:
        _needs_renode("Wait For Log Entry")

    @keyword("Should Not Be In Log")
    def should_not_be_in_log(self, pattern: str, timeout: float | None = None, treatAsRegex: bool = False,
                             pauseEmulation: bool | None = None, level: str | None = None):
        _needs_renode("Should Not Be In Log")

    @keyword("Create Terminal Tester")
    def create_terminal_tester(self, uart: str, timeout: float | None = None, machine: str | None = None,
                               endLineOption: str | None = None, defaultPauseEmulation: bool = False,
                               defaultWaitForEcho: bool = True, defaultMatchNextLine: bool = False,
                               binaryMode: bool = False) -> int:
        _needs_renode("Create Terminal Tester")

    @keyword("Wait For Line On Uart")
    def wait_for_line_on_uart(self, content: str, timeout: float | None = None, testerId: int | None = None,
                              treatAsRegex: bool = False, includeUnfinishedLine: bool = False,
                              pauseEmulation: bool | None = None, matchNextLine: bool | None = None):
        _needs_renode("Wait For Line On Uart")
