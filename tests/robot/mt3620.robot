*** Comments ***
The project's IO-core firmware on the MT3620 platform in Renode, with the MT3620 blocks served by
`mt3620 renode-bridge` (docs/renode.md). Run with Renode's test runner from the tree root:
    scripts/build_firmware hello gpt_timer
    renode-test tests/robot/mt3620.robot
The expected lines are the firmware's documented output (docs/firmware.md). Bridged UARTs are not Renode IUARTs,
so lines are matched in Renode's log, where the shims write each complete line as "<uart>: <line>".

*** Settings ***
Suite Setup         Setup With Bridge
Suite Teardown      Teardown With Bridge
Resource            ${RENODEKEYWORDS}
Library             Process
Library             OperatingSystem

*** Variables ***
${ROOT}             ${CURDIR}/../..
${RESC}             ${ROOT}/mt3620.resc
${FIRMWARE}         ${ROOT}/firmware/build
${PYTHON}           python3
${CONNECTION}       ${TEMPDIR}/mt3620-renode-bridge.conn
${LINE_TIMEOUT}     30

*** Keywords ***
Setup With Bridge
    File Should Exist           ${FIRMWARE}/hello.elf       msg=build the firmware first: scripts/build_firmware
    File Should Exist           ${FIRMWARE}/gpt_timer.elf   msg=build the firmware first: scripts/build_firmware
    Remove File                 ${CONNECTION}
    Start Process               ${PYTHON}    -m    mt3620    renode-bridge    --connection-file    ${CONNECTION}
    ...                         alias=bridge    stdout=${OUTPUT DIR}/bridge.log    stderr=STDOUT
    Wait Until Created          ${CONNECTION}    timeout=60s
    # Renode is started by Setup below and inherits this: the shims read the bridge's address and token from it
    Set Environment Variable    MT3620_BRIDGE_FILE    ${CONNECTION}
    Setup

Teardown With Bridge
    Teardown
    Terminate Process           bridge

Boot Both IO Cores
    [Arguments]                 ${rt0}    ${rt1}
    Reset Emulation
    # Renode opens the shims (filename: "peripherals/renode/*.py27") relative to its working directory
    Execute Command             python "import System; System.IO.Directory.SetCurrentDirectory(r'${ROOT}')"
    Execute Command             $rt0=@${FIRMWARE}/${rt0}
    Execute Command             $rt1=@${FIRMWARE}/${rt1}
    Execute Command             include @${RESC}
    Create Log Tester           ${LINE_TIMEOUT}

*** Test Cases ***
Hello Prints On The Debug UART Of IO Core 0
    Boot Both IO Cores          hello.elf    gpt_timer.elf
    Start Emulation
    Wait For Log Entry          io0_uart: hello: Hello from the MT3620 IO core
    Wait For Log Entry          io0_uart: hello: fmt 42 -7 4294967295 0xdeadbeef 000000FF [${SPACE}${SPACE}abc] [abc${SPACE}${SPACE}] x % 0x00100000
    Wait For Log Entry          io0_uart: hello: done

GPT0 Interrupts Tick On IO Core 1
    Boot Both IO Cores          hello.elf    gpt_timer.elf
    Start Emulation
    Wait For Log Entry          io1_uart: gpt_timer: start
    FOR    ${n}    IN RANGE    1    6
        Wait For Log Entry      io1_uart: gpt_timer: tick ${n}
    END
    Wait For Log Entry          io1_uart: gpt_timer: done after 5 ticks

Each IO Core Has Its Own Debug UART
    Boot Both IO Cores          gpt_timer.elf    hello.elf
    Start Emulation
    Wait For Log Entry          io1_uart: hello: done
    Wait For Log Entry          io0_uart: gpt_timer: done after 5 ticks
    Should Not Be In Log        io0_uart: hello:
