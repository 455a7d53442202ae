// SPDX-License-Identifier: MIT
// Test-only OApp that sends arbitrary bytes over LayerZero: used to forge CREDITs from an
// unregistered sender and, once registered as a peer, to replay an already processed lockId.
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {OApp, Origin, MessagingFee} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";

contract RogueSender is OApp {
    error ReceiveNotSupported();

    constructor(address endpoint_, address owner_) OApp(endpoint_, owner_) Ownable(owner_) {}

    /// @notice Sends `message` as-is to this OApp's peer on `dstEid` (the owner sets it with
    /// setPeer first). The whole msg.value is the native fee; any excess is refunded.
    function sendRaw(uint32 dstEid, bytes calldata message, bytes calldata options)
        external
        payable
        onlyOwner
        returns (bytes32 guid)
    {
        return _lzSend(dstEid, message, options, MessagingFee(msg.value, 0), msg.sender).guid;
    }

    function quote(uint32 dstEid, bytes calldata message, bytes calldata options) external view returns (uint256) {
        return _quote(dstEid, message, options, false).nativeFee;
    }

    function _lzReceive(Origin calldata, bytes32, bytes calldata, address, bytes calldata) internal pure override {
        revert ReceiveNotSupported();
    }
}
