// SPDX-License-Identifier: MIT
// Test-only: exposes the MarginMessages library so TypeScript tests can run it against
// test/vectors/messages.json.
pragma solidity ^0.8.22;

import {MarginMessages} from "../libraries/MarginMessages.sol";

contract CodecHarness {
    function encode(MarginMessages.Message calldata m) external pure returns (bytes memory) {
        return MarginMessages.encode(m);
    }

    function decode(bytes calldata encoded) external pure returns (MarginMessages.Message memory) {
        return MarginMessages.decode(encoded);
    }

    function messageId(uint64 originChainId, address origin, uint64 nonce) external pure returns (bytes32) {
        return MarginMessages.messageId(originChainId, origin, nonce);
    }
}
