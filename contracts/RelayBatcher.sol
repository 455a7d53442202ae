// SPDX-License-Identifier: MIT
// Runs many relay calls (DVN verifications, commits, lzReceive) in one transaction for its
// operators; a failing call is reported (event and result) and does not stop the others.
pragma solidity ^0.8.22;

contract RelayBatcher {
    struct Call {
        address target;
        uint256 value;
        /// @dev Gas forwarded to the call; 0 forwards what is left (after the 1/64 rule).
        uint256 gas;
        bytes data;
    }

    struct Result {
        bool ok;
        /// @dev Gas the call used: a simulation (eth_call) of the batch tells the sender its gas.
        uint256 gasUsed;
        bytes returnData;
    }

    address public owner;
    mapping(address => bool) public operators;

    event OperatorSet(address indexed operator, bool allowed);
    event CallFailed(uint256 indexed index, bytes revertData);

    error NotOwner();
    error NotOperator(address caller);
    error ValueMismatch(uint256 sent, uint256 needed);
    error InsufficientGas(uint256 index);

    constructor(address owner_) {
        owner = owner_;
        operators[owner_] = true;
        emit OperatorSet(owner_, true);
    }

    function setOperator(address operator, bool allowed) external {
        if (msg.sender != owner) revert NotOwner();
        operators[operator] = allowed;
        emit OperatorSet(operator, allowed);
    }

    /// @notice Executes the calls in order. Simulate it with eth_call to learn each call's outcome.
    function execute(Call[] calldata calls) external payable returns (Result[] memory results) {
        if (!operators[msg.sender]) revert NotOperator(msg.sender);
        uint256 needed;
        for (uint256 i = 0; i < calls.length; ++i) needed += calls[i].value;
        if (needed != msg.value) revert ValueMismatch(msg.value, needed);
        results = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            Call calldata c = calls[i];
            // A call promised `gas` must get it: fail the whole batch rather than starve one call
            // (an executor that under-funds lzReceive would break the sender's options).
            if (c.gas != 0 && gasleft() < c.gas + c.gas / 63 + 10_000) revert InsufficientGas(i);
            uint256 before = gasleft();
            (bool ok, bytes memory ret) = c.gas == 0
                ? c.target.call{ value: c.value }(c.data)
                : c.target.call{ value: c.value, gas: c.gas }(c.data);
            results[i] = Result(ok, before - gasleft(), ret);
            if (!ok) emit CallFailed(i, ret);
        }
    }
}
