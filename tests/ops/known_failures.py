"""Every known deviation of the op table from torch, in one place, with its reason.

The generated tests in test_op_table.py look entries up here and mark them xfail(strict=True),
so a known failure that starts passing is reported and must be removed from this list.

KNOWN_FAILURES keys are `(op name, check)` for every sample of the op, or
`(op name, check, sample index)` for one sample. Checks: "samples", "forward", "grad",
"grad_fn", "gradcheck", "gradgradcheck", "float32".

NO_TORCH_COUNTERPART lists entries with no torch function to compare against (tapegrad's
internal building blocks); they still get gradcheck, gradgradcheck and the float32 check.
"""
from __future__ import annotations

KNOWN_FAILURES: dict[tuple, str] = {
    ("_to_copy", "gradcheck", 0): "float64 -> float32 output: central differences in float32 with eps=1e-6 are "
                                  "off by ~1e-2; torch's gradcheck fails the same way (not a tapegrad bug)",
    ("_to_copy", "gradgradcheck", 0): "float32 output and grad_output: same precision limit as its gradcheck",
    ("_view_scatter", "samples"): "internal node of in-place writes into views (CopySlices); exercised through "
                                  "the in-place tests, it has no standalone call to sample",
    ("floor_divide.impl", "samples"): "internal non-differentiable kernel behind torch.floor_divide; needs samples",
    **{(name, check): "torch records NotImplemented for scatter with `reduce`: its backward raises "
                      "'derivative for aten::scatter is not implemented', as tapegrad's does"
       for name in ("scatter.reduce", "scatter.value_reduce") for check in ("grad", "gradcheck", "gradgradcheck")},
    **{("remainder.Scalar_Tensor", check): "torch records NotImplemented for remainder(number, tensor): its backward "
                                           "raises 'derivative for aten::remainder is not implemented', as tapegrad's does"
       for check in ("grad", "gradcheck", "gradgradcheck")},
}

NO_TORCH_COUNTERPART: dict[str, str] = {
    "as_strided_backward": "gradient of as_strided (scatter-add into the strided positions); torch has no aten op",
    "_reduction_flip": "flip used inside reduction gradients (cumsum, cumprod, prod with zeros)",
    "_scatter_selected": "gradient of max(dim)/sort/topk/median(dim)...: scatter of the picked elements",
    "_gather_selected": "gradient of _scatter_selected (double backward of the selecting reductions)",
    "_squeeze_matmul": "matmul's internal squeeze_ of the dim it added to a 1-d operand (SqueezeBackward4); "
                       "covered through torch.matmul",
    "_view_scatter": "internal CopySlices node",
    "floor_divide.impl": "internal kernel; the public torch.floor_divide wraps it",
    "copy_": "in-place only (CopyBackwards); torch's out-of-place aten.copy records NotImplemented; covered by "
             "tests/ops/test_indexing.py",
    "fill_.Scalar": "entry behind in-place fill_ (FillBackward2); torch's fill_ cannot run on the leaf inputs of "
                    "the generated tests; covered by tests/ops/test_indexing.py",
    "fill_.Tensor": "entry behind in-place fill_ with a 0-dim tensor (FillBackward3); see fill_.Scalar",
}

# --- nn op modules (tapegrad/ops/nn_*.py): internal derivative entries with no public torch function
NO_TORCH_COUNTERPART.update({
    "_convolution_weight": "weight gradient of a convolution (an internal node of ConvolutionBackward0); covered "
                           "through torch.convolution's gradients",
    "_max_pool_scatter": "gradient of max pooling (scatter into the argmax positions); covered through "
                         "max_pool2d_with_indices's gradients",
    "_max_pool_gather": "gradient of _max_pool_scatter (gather at the argmax positions)",
    "_avg_pool2d_backward": "gradient of average pooling; covered through avg_pool2d's gradients",
    "_leaky_relu_inplace": "the entry F.leaky_relu(inplace=True) runs in place (LeakyReluBackward1, formula on the "
                           "result); compared with torch in tests/nn/test_functional_activation.py",
    "_elu_inplace": "the entry F.elu_/selu_ run in place (EluBackward1, formula on the result); compared with torch "
                    "in tests/nn/test_functional_activation.py",
    "_celu_inplace": "the entry F.celu_ runs in place (CeluBackward1, formula on the result); compared with torch in "
                     "tests/nn/test_functional_activation.py",
    "_threshold_inplace": "the entry F.threshold_ runs in place (ThresholdBackward1); compared with torch in "
                          "tests/nn/test_functional_activation.py",
    "_lstm_cell": "the fused gate nonlinearities of one nn.LSTM time step; compared with torch through nn.LSTM in "
                  "tests/nn/test_rnn.py",
    "_gru_cell": "the fused gate nonlinearities of one nn.GRU time step; compared with torch through nn.GRU in "
                 "tests/nn/test_rnn.py",
    "_lstm_layer": "one fused layer and direction of nn.LSTM (torch's MkldnnRnnLayerBackward0 node; aten's "
                   "mkldnn_rnn_layer takes other arguments); compared with torch through nn.LSTM in tests/nn/test_rnn.py",
    "_gru_layer": "one fused layer and direction of nn.GRU; compared with torch through nn.GRU in tests/nn/test_rnn.py",
    "_embedding_bag_impl": "the entry behind F.embedding_bag (one output; aten's _embedding_bag has four); compared "
                           "with torch in tests/nn/test_layers_extra.py",
    "_rrelu_with_noise_inplace": "the entry F.rrelu_ runs in place (RreluWithNoiseBackward1, formula on the result); "
                                 "compared with torch in tests/nn/test_functional_activation.py",
})

# torch's pointwise-loss backward divides a 'mean' by the numel of the differentiated input, not of the
# broadcast loss, so with broadcasting (sample 4) its gradient (which tapegrad matches) is not the derivative.
for _loss in ("mse_loss", "smooth_l1_loss", "huber_loss"):
    KNOWN_FAILURES[(_loss, "gradcheck", 4)] = ("torch's mean divides by the input's numel under broadcasting; "
                                              "tapegrad follows torch (the values agree with torch)")
KNOWN_FAILURES[("embedding", "gradcheck", 1)] = ("padding_idx: torch (and tapegrad) leave that row's gradient at zero "
                                                 "by design, which is not the derivative")
KNOWN_FAILURES[("embedding", "gradcheck", 2)] = ("scale_grad_by_freq: torch (and tapegrad) scale the gradient by "
                                                 "inverse frequencies by design, which is not the derivative")
KNOWN_FAILURES[("_embedding_bag_impl", "gradcheck", 4)] = ("scale_grad_by_freq: the gradient is scaled by inverse "
                                                             "frequencies by design, which is not the derivative")

KNOWN_FAILURES[("mse_loss", "gradgradcheck", 4)] = (
    "broadcast self and target: torch's derivative of mse_loss_backward in target divides a mean by target's "
    "numel (tapegrad follows torch: the values agree), which is not the derivative")

# --- backward ops of the activations and losses (ops/softmax.py, nn_activation_backward.py, nn_loss_backward.py)
NO_TORCH_COUNTERPART.update({
    **{name: "torch gives aten::" + name + " no derivative (NotImplemented; its forward AD raises too): tapegrad "
             "runs it under a plain backward only (with grad mode on, the activation's formula is a composite, "
             "as torch's for silu and mish), and gives it the exact derivative (gradcheck, gradgradcheck); its "
             "values are compared with torch's in tests/nn/test_functional_activation.py"
       for name in ("silu_backward", "mish_backward", "hardsigmoid_backward")},
})
