*** Comments ***
The project's IO-core firmware on the MT3620 in Renode: UART lines through Renode's own terminal tester, the GPT's
interrupts through Renode's NVIC. Run with Renode's test runner (tests/renode/test_robot_suites.py does):
    scripts/build_firmware
    renode-test --variable PYTHON:$(command -v python3) tests/robot/mt3620.robot
The expected lines are the firmware's documented output (docs/firmware.md).

*** Settings ***
Resource            ${RENODEKEYWORDS}
Resource            ${CURDIR}/mt3620.resource
Library             OperatingSystem

*** Test Cases ***
Hello Prints On The Debug UART Of IO Core 0
    Boot MT3620                 hello.elf    gpt_timer.elf
    Start Emulation
    Wait For Line On Uart       hello: Hello from the MT3620 IO core    testerId=${IO0}
    Wait For Line On Uart       hello: fmt 42 -7 4294967295 0xdeadbeef 000000FF [${SPACE}${SPACE}abc] [abc${SPACE}${SPACE}] x % 0x00100000    testerId=${IO0}
    Wait For Line On Uart       hello: done    testerId=${IO0}

GPT0 Interrupts Tick On IO Core 1 From Time Zero
    Boot MT3620                 hello.elf    gpt_timer.elf
    Start Emulation
    Wait For Line On Uart       gpt_timer: start    testerId=${IO1}
    ${tick}=                    Wait For Line On Uart       gpt_timer: tick 1    testerId=${IO1}
    # 100 ms of 32.768 kHz ticks: the bridge's clock started with this machine at t = 0
    Line Should Come Before     ${tick}    0.2
    FOR    ${n}    IN RANGE    2    6
        Wait For Line On Uart   gpt_timer: tick ${n}    testerId=${IO1}
    END
    Wait For Line On Uart       gpt_timer: done after 5 ticks    testerId=${IO1}

Each IO Core Has Its Own Debug UART
    Boot MT3620                 gpt_timer.elf    hello.elf
    Start Emulation
    Wait For Line On Uart       hello: done    testerId=${IO1}
    Wait For Line On Uart       gpt_timer: done after 5 ticks    testerId=${IO0}
    Should Not Be On Uart       hello:    testerId=${IO0}    timeout=0.1
