*** Comments ***
The reference board's LEDs and buttons as Renode objects (platforms/boards/mt3620-rdb.repl) under the project's
blink_button firmware: LED1 blue blinks twice, then LED1 red follows button A (both active low). This suite runs
after mt3620.robot in the same Renode, on machines of its own that start at t = 0.

*** Settings ***
Resource            ${RENODEKEYWORDS}
Resource            ${CURDIR}/mt3620.resource
Library             OperatingSystem

*** Test Cases ***
LED1 Blue Blinks Twice
    Boot MT3620                 blink_button.elf    hello.elf
    Create LED Tester           sysbus.gpio2.led1_b    defaultTimeout=1
    Start Emulation
    ${start}=                   Wait For Line On Uart       blink_button: start    testerId=${IO0}
    Line Should Come Before     ${start}    0.05
    Assert LED State            true
    Assert LED State            false    timeout=0.2
    Assert LED State            true     timeout=0.2
    Assert LED State            false    timeout=0.2

Button A Lights LED1 Red From The Monitor
    Boot MT3620                 blink_button.elf    hello.elf
    Create LED Tester           sysbus.gpio2.led1_r    defaultTimeout=1
    Start Emulation
    Wait For Line On Uart       blink_button: buttons A=1 B=1    testerId=${IO0}
    Assert LED State            false
    Execute Command             sysbus.gpio3.button_a Press
    Wait For Line On Uart       blink_button: buttons A=0 B=1    testerId=${IO0}
    Assert LED State            true
    Execute Command             sysbus.gpio3.button_a Release
    Wait For Line On Uart       blink_button: buttons A=1 B=1    testerId=${IO0}
    Assert LED State            false
    Execute Command             sysbus.gpio3.button_b Press
    Wait For Line On Uart       blink_button: buttons A=1 B=0    testerId=${IO0}
