// SPDX-License-Identifier: MIT
// LayerZero type-3 executor options with one lzReceive option (gas, no value), for the vault's
// CREDIT and the engine's RELEASE/SEIZE alike. Built here rather than with oapp-evm's
// OptionsBuilder, whose solidity-bytes-utils dependency is not installed.
pragma solidity ^0.8.22;

import {ExecutorOptions} from "@layerzerolabs/lz-evm-messagelib-v2/contracts/libs/ExecutorOptions.sol";

library LzOptions {
    uint16 private constant TYPE_3 = 3;

    function lzReceive(uint128 gas) internal pure returns (bytes memory) {
        bytes memory option = ExecutorOptions.encodeLzReceiveOption(gas, 0);
        return abi.encodePacked(
            TYPE_3,
            ExecutorOptions.WORKER_ID,
            uint16(option.length + 1), // + 1 for the option type byte
            ExecutorOptions.OPTION_TYPE_LZRECEIVE,
            option
        );
    }
}
