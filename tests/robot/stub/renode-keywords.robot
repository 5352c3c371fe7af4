*** Comments ***
Stand-in for Renode's tests/renode-keywords.robot so that `robot --dryrun` can check the suites where Renode is not
installed: pass --variable RENODEKEYWORDS:tests/robot/stub/renode-keywords.robot. Nothing here runs a machine.

*** Settings ***
Library             ${CURDIR}/RenodeStub.py
